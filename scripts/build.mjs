// Builds the server and CLI (src/ -> dist/cli/opencloak.mjs) when the build is missing or older
// than its sources, so that `opencloak` runs compiled JavaScript and never compiles at run time.
//
// esbuild bundles src/cli/main.ts and the npm packages it uses into one ES module in about a
// second. One file loads in about half the CPU time of the same code as hundreds of modules
// resolved in node_modules (0.35 s against 0.63 s for `--help`, measured), and esbuild (already
// installed: tsx and vite use it) strips types without a type check, which `npm run typecheck`
// does. tsc would emit one file per module, rewrites our `.ts` import specifiers only with extra
// settings, bundles nothing, and takes seconds where esbuild takes a fraction of one.
//
// Left out of the bundle (EXTERNAL): native addons, which load a compiled file from their package,
// and the TypeScript compiler (9 MB, loaded only for TypeScript tasks). The sandbox child
// (src/sandbox/child/*.mjs) is plain JavaScript in its own processes and runs from src/.
//
// `node scripts/build.mjs` builds when stale; `--force` always builds. bin/opencloak.mjs calls
// ensureBuild() on every run: the freshness check is a walk of src/'s modification times.
import { existsSync, mkdirSync, readdirSync, renameSync, rmSync, statSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
const BUILT = 'dist/cli/opencloak.mjs';
export const BUILT_CLI = path.join(root, BUILT);
const EXTERNAL = ['better-sqlite3', 'isolated-vm', 'typescript'];
/** Bundled CommonJS packages call require(); in an ES module it has to be made. */
const REQUIRE_SHIM =
  "import { createRequire as opencloakRequire } from 'node:module'; const require = opencloakRequire(import.meta.url);";
/**
 * The newest modification time of the sources the bundle is made of (tests are not in it). A
 * folder's own time counts too: it changes when a file in it is deleted or renamed.
 */
function newestSource(dir) {
  let latest = statSync(dir).mtimeMs;
  for (const entry of readdirSync(dir, { withFileTypes: true })) {
    const full = path.join(dir, entry.name);
    if (entry.isDirectory()) latest = Math.max(latest, newestSource(full));
    else if (!entry.name.endsWith('.test.ts')) latest = Math.max(latest, statSync(full).mtimeMs);
  }
  return latest;
}

/**
 * Whether `root`'s build is missing or older than src/, the lock file (package versions) or this
 * script.
 */
export function buildIsStale(installation = root) {
  const built = path.join(installation, BUILT);
  if (!existsSync(built)) return true;
  const inputs = Math.max(
    newestSource(path.join(installation, 'src')),
    statSync(path.join(installation, 'package-lock.json')).mtimeMs,
    statSync(fileURLToPath(import.meta.url)).mtimeMs,
  );
  return statSync(built).mtimeMs < inputs;
}

export async function build() {
  const { build: esbuild } = await import('esbuild');
  // Written into a folder of its own and renamed: commands started at the same time (tests run in
  // parallel) each see either the old build or a whole new one, never half a file.
  const temporary = path.join(path.dirname(BUILT_CLI), `.build-${process.pid}`);
  mkdirSync(temporary, { recursive: true });
  const file = path.join(temporary, path.basename(BUILT_CLI));
  try {
    await esbuild({
      // Paths in the bundle's comments are relative to this, whatever directory started the build.
      absWorkingDir: root,
      entryPoints: [path.join(root, 'src/cli/main.ts')],
      outfile: file,
      bundle: true,
      platform: 'node',
      format: 'esm',
      target: 'node20',
      external: EXTERNAL,
      sourcemap: 'linked',
      logLevel: 'warning',
      banner: {
        js: `// Built by scripts/build.mjs from src/: do not edit; \`npm run build\` rebuilds.\n${REQUIRE_SHIM}`,
      },
    });
    renameSync(`${file}.map`, `${BUILT_CLI}.map`);
    renameSync(file, BUILT_CLI);
  } finally {
    rmSync(temporary, { recursive: true, force: true });
  }
}

/**
 * Builds when the build is missing or stale. Says so on a terminal's stderr only: a command's
 * output read by a script (or a test) stays what the command printed.
 */
export async function ensureBuild() {
  if (!buildIsStale()) return;
  if (process.stderr.isTTY) process.stderr.write('Building OpenCloak (src/ -> dist/cli)...\n');
  await build();
}

if (process.argv[1] === fileURLToPath(import.meta.url)) {
  if (process.argv.includes('--force')) await build();
  else await ensureBuild();
}
