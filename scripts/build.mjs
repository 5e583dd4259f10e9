// Builds the server and CLI (src/ -> dist/cli/opencloak.mjs) when the build is missing or older
// than its sources, so that `opencloak` runs compiled JavaScript and never compiles at run time.
//
// esbuild bundles src/cli/main.ts and the npm packages it uses into ES modules in about a
// second: the entry (commander and the commands' options) and chunks that the commands' actions
// import when they run (docs/cli.md, "Compiled, not interpreted"). A bundle loads in about half
// the CPU time of the same code as hundreds of modules resolved in node_modules (0.35 s against
// 0.63 s for `--help` when it was one file, measured), and esbuild (already
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
import {
  existsSync,
  mkdirSync,
  readdirSync,
  readFileSync,
  renameSync,
  rmSync,
  statSync,
} from 'node:fs';
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
  // Written into a folder of its own and moved: commands started at the same time (tests run in
  // parallel) each see either the old build or a whole new one, never half a file.
  const temporary = path.join(path.dirname(BUILT_CLI), `.build-${process.pid}`);
  mkdirSync(temporary, { recursive: true });
  try {
    const { metafile } = await esbuild({
      // Paths in the bundle's comments are relative to this, whatever directory started the build.
      absWorkingDir: root,
      entryPoints: { [path.basename(BUILT_CLI, '.mjs')]: path.join(root, 'src/cli/main.ts') },
      outdir: temporary,
      outExtension: { '.js': '.mjs' },
      // Each command loads what it uses (docs/cli.md): the modules a dynamic import reaches go
      // into chunks of their own, loaded when the command needs them.
      splitting: true,
      chunkNames: `${CHUNKS}/[name]-[hash]`,
      bundle: true,
      platform: 'node',
      format: 'esm',
      target: 'node20',
      external: EXTERNAL,
      plugins: [withoutUmzugCli, packagesImportEagerly],
      metafile: true,
      sourcemap: 'linked',
      logLevel: 'warning',
      banner: {
        js: `// Built by scripts/build.mjs from src/: do not edit; \`npm run build\` rebuilds.\n${REQUIRE_SHIM}`,
      },
    });
    checkChunks(metafile);
    // Chunks first, each named by its content (an unchanged one keeps its name), then the entry:
    // a command that starts meanwhile loads the old entry, whose chunks are all still there.
    const chunks = path.join(path.dirname(BUILT_CLI), CHUNKS);
    mkdirSync(chunks, { recursive: true });
    const built = path.join(temporary, CHUNKS);
    const made = new Set(existsSync(built) ? readdirSync(built) : []);
    for (const name of made) renameSync(path.join(built, name), path.join(chunks, name));
    renameSync(path.join(temporary, `${path.basename(BUILT_CLI)}.map`), `${BUILT_CLI}.map`);
    renameSync(path.join(temporary, path.basename(BUILT_CLI)), BUILT_CLI);
    pruneChunks(chunks, made);
  } finally {
    rmSync(temporary, { recursive: true, force: true });
  }
}

/** The folder of dist/cli that holds the chunks commands load on demand. */
const CHUNKS = 'chunks';

/**
 * A process loads its chunks in its first moments (the commands' dynamic imports are at the start
 * of their actions; only an error's message may load the configuration's chunk later), so an
 * earlier build's chunks go once they are an hour old: a server started before a rebuild has long
 * loaded what it needs.
 */
const OLD_CHUNK_MS = 3_600_000;

function pruneChunks(dir, keep) {
  for (const name of readdirSync(dir)) {
    if (keep.has(name)) continue;
    const file = path.join(dir, name);
    if (Date.now() - statSync(file).mtimeMs > OLD_CHUNK_MS) rmSync(file, { force: true });
  }
}

/**
 * A package's own `import('other-package')` stays in the package's chunk. Split into a chunk of
 * its own, a CommonJS package is seen through `default` only (esbuild's splitting exports
 * `module.exports` as the default), where unsplit code and Node give its named exports as well:
 * @fastify/cookie's `(await import('cookie')).stringifySetCookie` was undefined, and every login
 * failed. So such imports are rewritten to what esbuild makes of them without splitting: the
 * bundled module, its exports and a `default`, in a promise.
 */
const packagesImportEagerly = {
  name: 'packages-import-eagerly',
  setup(builder) {
    builder.onLoad({ filter: /[\\/]node_modules[\\/].*\.[cm]?js$/ }, (args) => {
      const source = readFileSync(args.path, 'utf8');
      const contents = source.replace(
        PACKAGE_IMPORT,
        (_, quote, name) =>
          `Promise.resolve().then(() => ((m) => (m && m.__esModule ? m : { ...m, default: m }))(require(${quote}${name}${quote})))`,
      );
      return contents === source ? undefined : { loader: 'js', contents };
    });
  },
};

/** `import('name')` of another package (not a relative path) in a package's code. */
const PACKAGE_IMPORT = /\bimport\(\s*(['"])([^'"./][^'"]*)\1\s*\)/g;

/** Every chunk is our code's: a package split off on its own would be seen differently. */
function checkChunks(metafile) {
  for (const [file, output] of Object.entries(metafile.outputs)) {
    if (output.entryPoint?.includes('node_modules/')) {
      throw new Error(
        `${output.entryPoint} became a chunk of its own (${file}): a dynamic import of it was not rewritten by packagesImportEagerly`,
      );
    }
  }
}

/**
 * umzug (the stores' migrations) requires its own command-line front end, `runAsCLI`, at load
 * time, and with it @rushstack's command-line and JSON-schema libraries: about a megabyte that
 * every command would parse. OpenCloak never calls it, so the build puts a stub in its place.
 */
const withoutUmzugCli = {
  name: 'umzug-without-cli',
  setup(builder) {
    builder.onResolve({ filter: /^\.\/cli$/ }, (args) =>
      /[\\/]umzug[\\/]lib[\\/][^\\/]+$/.test(args.importer)
        ? { path: 'umzug-cli', namespace: 'opencloak-stub' }
        : undefined,
    );
    builder.onLoad({ filter: /.*/, namespace: 'opencloak-stub' }, () => ({
      loader: 'js',
      contents:
        "exports.UmzugCLI = class { constructor() { throw new Error('umzug\\'s command line is not part of the opencloak build'); } };",
    }));
  },
};

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
