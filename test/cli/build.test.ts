// The opencloak command runs the compiled bundle, rebuilt when src/ changes, and never loads tsx.
import {
  mkdirSync,
  mkdtempSync,
  readFileSync,
  rmSync,
  statSync,
  unlinkSync,
  utimesSync,
  writeFileSync,
} from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
// @ts-expect-error: a plain JavaScript script, without type declarations.
import { BUILT_CLI, buildIsStale, ensureBuild } from '../../scripts/build.mjs';

const ROOT = path.resolve(import.meta.dirname, '../..');

describe('the compiled command', () => {
  const dir = mkdtempSync(path.join(os.tmpdir(), 'opencloak-build-'));
  afterAll(() => rmSync(dir, { recursive: true, force: true }));

  /** A tree shaped like an installation, every file dated `at` (seconds). */
  const installation = (at: number) => {
    const file = (name: string) => {
      const full = path.join(dir, name);
      mkdirSync(path.dirname(full), { recursive: true });
      writeFileSync(full, '');
      utimesSync(full, at, at);
      return full;
    };
    const sources = [file('src/cli/main.ts'), file('src/cli/old.ts'), file('package-lock.json')];
    for (const folder of ['src', 'src/cli']) utimesSync(path.join(dir, folder), at, at);
    return { sources, built: file('dist/cli/opencloak.mjs') };
  };

  it('is stale when missing, or older than a source, the lock file or a deleted source', () => {
    // Moments after scripts/build.mjs was last written (also an input) and before now, at which
    // deleting a file dates its folder.
    const script = statSync(path.join(ROOT, 'scripts/build.mjs')).mtimeMs / 1000;
    const span = Date.now() / 1000 - script;
    const moment = (k: number) => script + (span * k) / 100;
    const past = moment(1);
    const { sources, built } = installation(past);
    expect(buildIsStale(dir)).toBe(false);
    const [main, old, lock] = sources as [string, string, string];
    utimesSync(main, moment(2), moment(2));
    expect(buildIsStale(dir)).toBe(true);
    utimesSync(built, moment(3), moment(3));
    expect(buildIsStale(dir)).toBe(false);
    utimesSync(lock, moment(4), moment(4));
    expect(buildIsStale(dir)).toBe(true);
    utimesSync(built, moment(5), moment(5));
    unlinkSync(old); // the folder's time moves to now
    expect(buildIsStale(dir)).toBe(true);
    rmSync(built);
    expect(buildIsStale(dir)).toBe(true);
  });

  it('runs built files that never load tsx', async () => {
    await ensureBuild();
    expect(buildIsStale(ROOT)).toBe(false);
    for (const file of [BUILT_CLI, ...reachable(BUILT_CLI, /import\("(\.\.?\/[^"]+\.mjs)"\)/g)]) {
      expect(readFileSync(file, 'utf8'), file).not.toMatch(
        /from ["']tsx|import\(["']tsx|\/src\/cli\/main\.ts/,
      );
    }
    const bin = readFileSync(path.join(ROOT, 'bin/opencloak.mjs'), 'utf8');
    expect(bin).not.toContain('tsx');
    expect(bin).toContain('dist/cli/opencloak.mjs');
  }, 60_000);

  it('registers its commands without loading the server: help and usage errors stay fast', async () => {
    await ensureBuild();
    // What every command loads before its action runs: the entry and the chunks it imports.
    const loaded = [BUILT_CLI, ...reachable(BUILT_CLI)];
    const text = loaded.map((file) => readFileSync(file, 'utf8')).join('\n');
    expect(text).toContain('node_modules/commander/');
    // esbuild heads each bundled module with its path: none of these may be among them.
    for (const heavy of ['fastify', 'node-forge', 'node-sql-parser', 'pg', 'zod', 'undici']) {
      expect(text, `${heavy} is loaded by every command`).not.toContain(
        `// node_modules/${heavy}/`,
      );
    }
    for (const part of ['platform', 'cloak', 'air', 'store', 'pki', 'http']) {
      expect(text, `src/${part} is loaded by every command`).not.toContain(`// src/${part}/`);
    }
    // And the actions do find those parts: the chunks the entry loads on demand hold them.
    const onDemand = reachable(BUILT_CLI, /import\("(\.\.?\/[^"]+\.mjs)"\)/g)
      .map((file) => readFileSync(file, 'utf8'))
      .join('\n');
    expect(onDemand).toContain('// src/platform/open-platform.ts');
  }, 60_000);

  it('opens the data directory for a command, and reads the air, without loading the servers', async () => {
    await ensureBuild();
    const onDemand = reachable(BUILT_CLI, /import\("(\.\.?\/[^"]+\.mjs)"\)/g);
    // What `org list` loads (open-platform.ts), and what `analyst create` adds (air/index.ts):
    // esbuild names a dynamic import's chunk after its module (a folder's index after the folder).
    for (const [module, name] of [
      ['platform/open-platform.ts', 'open-platform-'],
      ['air/index.ts', 'air-'],
    ] as const) {
      const chunk = onDemand.find((file) => path.basename(file).startsWith(name));
      expect(chunk, module).toBeDefined();
      const text = [chunk!, ...reachable(chunk!)]
        .map((file) => readFileSync(file, 'utf8'))
        .join('\n');
      if (module === 'platform/open-platform.ts')
        expect(text).toContain('// src/cloak/open-cloak.ts');
      for (const server of ['fastify', '@fastify/swagger', 'pg-boss', 'undici']) {
        expect(text, `${module} loads ${server}`).not.toContain(`// node_modules/${server}/`);
      }
      for (const part of ['cloak/cloak-server.ts', 'air/web-server.ts', 'http/https-app.ts']) {
        expect(text, `${module} loads src/${part}`).not.toContain(`// src/${part}`);
      }
    }
  }, 60_000);
});

/**
 * The built files `file` imports (statically, or by `pattern`'s first group), and theirs in turn,
 * with the static imports of every file found.
 */
function reachable(file: string, pattern = /from "(\.\.?\/[^"]+\.mjs)"/g): string[] {
  const found = new Set<string>();
  const visit = (from: string, by: RegExp) => {
    for (const match of readFileSync(from, 'utf8').matchAll(by)) {
      const target = path.resolve(path.dirname(from), match[1]!);
      if (found.has(target)) continue;
      found.add(target);
      visit(target, STATIC_IMPORT);
      if (by !== STATIC_IMPORT) visit(target, by);
    }
  };
  visit(file, pattern);
  return [...found];
}

const STATIC_IMPORT = /from "(\.\.?\/[^"]+\.mjs)"/g;
