// Where this installation's files are, whether the code runs from src/ (tests) or from the dist/ build.
import { existsSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

/**
 * The folder holding package.json above this module. Paths relative to a module's own URL differ
 * between src/ and the build in dist/cli (esbuild moves every module there or into its chunks),
 * so files that ship beside the code (the sandbox child, the built web site) are found from the
 * root.
 */
export function installRoot(): string {
  let dir = path.dirname(fileURLToPath(import.meta.url));
  while (!existsSync(path.join(dir, 'package.json'))) {
    const parent = path.dirname(dir);
    if (parent === dir) throw new Error(`no package.json above ${import.meta.url}`);
    dir = parent;
  }
  return dir;
}
