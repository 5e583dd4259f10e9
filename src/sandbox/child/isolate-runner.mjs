// In the sandbox process: owns one isolated-vm isolate (SES locked down, task compiled) and runs one user at a time in it.
import { readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';
import { performance } from 'node:perf_hooks';
import { URL } from 'node:url';
import ivm from 'isolated-vm';

const require = createRequire(import.meta.url);

/** Every intrinsic frozen; explicit options so nothing depends on LOCKDOWN_* variables. */
const LOCKDOWN = `lockdown(${JSON.stringify({
  errorTaming: 'safe',
  errorTrapping: 'none',
  unhandledRejectionTrapping: 'none',
  reporting: 'none',
  consoleTaming: 'safe',
  overrideTaming: 'moderate',
  stackFiltering: 'concise',
  evalTaming: 'safe-eval',
  regExpTaming: 'safe',
  localeTaming: 'safe',
  domainTaming: 'safe',
})});`;

const MIB = 1024 * 1024;
/** A run may grow the heap by the limit over this before the next user gets a new isolate. */
const HEAP_GROWTH_DIVISOR = 8;

/** Set-up runs no task code, but a limit keeps a pathological compile from hanging the process. */
const SETUP_TIMEOUT_MS = 30_000;

/**
 * isolated-vm's timeout is wall-clock time, and sandbox processes run at niceness 19: on a busy
 * machine a user that needs a fraction of the limit could wait past it without running, and
 * become a timeout that a quiet machine would not give, changing the counts with the load. So a
 * run stopped at its wall limit counts as a timeout only when the process had at least this
 * share of the limit as CPU time meanwhile; otherwise it was starved, and the user runs again
 * from the start on a fresh isolate with twice the wall time, and that run decides. Not 1: a run
 * stopped at exactly its limit on a quiet machine measured up to half a percent less CPU than
 * wall time. One more run only, with twice the time and not more: a user who loops costs at most
 * three times the limit in wall time (the release schedule waits for the longest runs, and with
 * four times, five in all, the timing tests' runs doubled on the test suite's own load).
 */
export const CPU_SHARE_FOR_TIMEOUT = 0.9;

/** Runs of one user at most: wall limits of 1 and 2 times timeoutMs. */
export const MAX_ATTEMPTS = 2;

/** The wall-clock limit of a user's `attempt`th run (0 first). */
export function wallLimitMs(timeoutMs, attempt) {
  return timeoutMs * 2 ** attempt;
}

/** What runUser returns for a starved run: run that user again (after prepare()). */
export const STARVED = Symbol('starved');

let sources;
function guestSources() {
  // The UMD bundle defines lockdown, harden and Compartment in a bare V8 context, console or not.
  sources ??= {
    ses: readFileSync(
      join(dirname(require.resolve('ses/package.json')), 'dist/ses.umd.min.js'),
      'utf8',
    ),
    stdlib: readFileSync(new URL('../guest/stdlib.js', import.meta.url), 'utf8'),
    driver: readFileSync(new URL('../guest/driver.js', import.meta.url), 'utf8'),
    warmUp: readFileSync(new URL('../guest/warm-up.js', import.meta.url), 'utf8'),
    taskFunctions: readFileSync(new URL('../guest/task-functions.js', import.meta.url), 'utf8'),
  };
  return sources;
}

/**
 * V8's code cache of each guest script, made by the process's first isolate: each task (and each
 * user after a timeout or a heavy run) gets a new isolate, and compiling SES with every function
 * eager (--no-lazy) was 9 of its 56 ms of CPU (src/sandbox/README.md, "The guest scripts' code
 * cache"). The cache holds the bytecode the compilation makes, every function of the script
 * included, so an isolate made with it is in the state a compilation leaves (process-cache.test.ts
 * compares the recursion depth a task sees in a kept process, whose isolates come from the cache,
 * with a new process's); V8 rejects a cache made under other flags or by another V8, and the
 * script is then compiled as before.
 */
const codeCaches = new Map();
let compiledFromCache = 0;

function compileCached(isolate, source, filename) {
  const cachedData = codeCaches.get(filename);
  if (cachedData === undefined) {
    const script = isolate.compileScriptSync(source, { filename, produceCachedData: true });
    if (script.cachedData !== undefined) codeCaches.set(filename, script.cachedData);
    return script;
  }
  const script = isolate.compileScriptSync(source, { filename, cachedData });
  if (script.cachedDataRejected === true) codeCaches.delete(filename);
  else compiledFromCache++;
  return script;
}

/** Guest scripts this process has compiled from the code cache so far (for tests). */
export function scriptsCompiledFromCache() {
  return compiledFromCache;
}

/** Thrown at start-up when SES cannot compile the task (the host's own checks missed it). */
export class GuestCompileError extends Error {}

/**
 * Runs users one at a time. A timeout or any failure of the isolate itself retires the isolate,
 * so an interrupted run can never leave half-finished state behind for the next user.
 */
export class IsolateRunner {
  /**
   * @param {{ code: string, parameters: string[], bodySuffix: string, freshPerUser: boolean,
   *   limits: { timeoutMs: number,
   *   memoryLimitMb: number, maxPropertiesPerUser: number }, maxTextLength: number,
   *   maxErrorLength: number, hasLookup: boolean }} config
   * @param {(table: string, key: string) => string | undefined} lookup
   * @param {() => number} cpuMs the CPU time used so far, in ms (tests starve runs with it)
   */
  constructor(config, lookup, cpuMs = processCpuMs) {
    this.config = config;
    this.lookup = lookup;
    this.cpuMs = cpuMs;
    /** How much a run may grow the heap before the isolate is retired (see retireIfGrown). */
    this.growthAllowance = (config.limits.memoryLimitMb * MIB) / HEAP_GROWTH_DIVISOR;
  }

  /**
   * Opens the isolate the next run will use, if there is none. The sandbox process calls this
   * from one place only (see runEach in sandbox-child.mjs): V8 sets an isolate's stack limit from
   * where on the stack it was made, which later users could otherwise read off a recursion depth.
   */
  prepare() {
    this.session ??= this.openSession();
  }

  /**
   * @param {number} attempt how many runs of this user were starved before this one
   * @returns {string | symbol} the outcome as JSON text (see compile-task.ts for its shape), or
   *   STARVED: the isolate is retired, and the user should run again with `attempt + 1`
   */
  runUser(inputJson, attempt = 0) {
    this.session ??= this.openSession();
    const { isolate, start, finish, abandon } = this.session;
    const { timeoutMs } = this.config.limits;
    const wallMs = wallLimitMs(timeoutMs, attempt);
    const began = performance.now();
    const cpuBefore = this.cpuMs();
    const starved = () =>
      attempt + 1 < MAX_ATTEMPTS && this.cpuMs() - cpuBefore < timeoutMs * CPU_SHARE_FOR_TIMEOUT;
    try {
      // The promise jobs the run leaves behind run before applySync returns, so before finish.
      start.applySync(undefined, [inputJson], { timeout: wallMs });
    } catch (error) {
      const failure = this.failure(isolate, error, starved);
      if (failure === undefined) abandon.applySync(undefined, [], { timeout: wallMs });
      return failure ?? JSON.stringify({ ok: false, e: describeRejection(error) });
    }
    // finish may run task code (a toJSON, a thrown object's toString): the same budget holds.
    const left = Math.max(1, Math.ceil(wallMs - (performance.now() - began)));
    let outcome;
    try {
      outcome = finish.applySync(undefined, [], { timeout: left });
    } catch (error) {
      outcome =
        this.failure(isolate, error, starved) ??
        JSON.stringify({ ok: false, e: describeRejection(error) });
    }
    if (outcome !== STARVED) this.retireIfGrown();
    return outcome;
  }

  /**
   * A run that grew the heap leaves it grown (and full of its garbage), and how close to the limit
   * the next user may get before the run is stopped depends on that: a later user could tell a
   * heavy run before it from a light one. So after a heavy run the next user gets a new isolate,
   * as after a timeout; light runs, the usual case, keep the isolate.
   */
  retireIfGrown() {
    const session = this.session;
    if (session === undefined || session.isolate.isDisposed) return;
    const { total_heap_size: size } = session.isolate.getHeapStatisticsSync();
    if (size > session.freshHeapSize + this.growthAllowance) this.retire();
  }

  /**
   * The outcome when a call into the isolate hit a limit (the isolate is then retired), STARVED
   * for a timeout that `starved()` says the machine's load caused.
   */
  failure(isolate, error, starved) {
    if (isolate.isDisposed) {
      this.retire();
      return JSON.stringify({ ok: false, limit: 'memory' });
    }
    const message = error instanceof Error ? error.message : undefined;
    if (message === 'Script execution timed out.') {
      this.retire();
      return starved() ? STARVED : JSON.stringify({ ok: false, limit: 'timeout' });
    }
    // Otherwise a promise job the run left behind failed and nothing handled it.
    return undefined;
  }

  dispose() {
    this.retire();
  }

  retire() {
    const session = this.session;
    this.session = undefined;
    if (session !== undefined && !session.isolate.isDisposed) session.isolate.dispose();
  }

  openSession() {
    const { ses, stdlib, driver, warmUp, taskFunctions } = guestSources();
    const { config } = this;
    const isolate = new ivm.Isolate({ memoryLimit: config.limits.memoryLimitMb });
    try {
      const context = isolate.createContextSync();
      const script = (source, filename) =>
        compileCached(isolate, source, filename).runSync(context, {
          reference: true,
          timeout: SETUP_TIMEOUT_MS,
        });
      script(ses, 'ses.js');
      script(LOCKDOWN, 'lockdown.js');
      const makeStdlib = script(stdlib, 'opencloak-stdlib.js');
      const library = makeStdlib.applySync(undefined, [], { result: { reference: true } });
      const makeTaskFunctions = script(taskFunctions, 'opencloak-task-functions.js');
      const makeDriver = script(driver, 'opencloak-driver.js');
      const taskConfig = {
        code: config.code,
        parameters: config.parameters,
        bodySuffix: config.bodySuffix,
        freshPerUser: config.freshPerUser,
      };
      const driverConfig = {
        warmUpCode: warmUp,
        maxProperties: config.limits.maxPropertiesPerUser,
        maxTextLength: config.maxTextLength,
        maxErrorLength: config.maxErrorLength,
        hasLookup: config.hasLookup,
      };
      let driverApi;
      try {
        const functions = makeTaskFunctions.applySync(
          undefined,
          [new ivm.ExternalCopy(taskConfig).copyInto()],
          { result: { reference: true }, timeout: SETUP_TIMEOUT_MS },
        );
        driverApi = makeDriver.applySync(
          undefined,
          [
            library.derefInto(),
            functions.derefInto(),
            new ivm.Callback((table, key) => this.lookup(table, key)),
            new ivm.ExternalCopy(driverConfig).copyInto(),
          ],
          { result: { reference: true }, timeout: SETUP_TIMEOUT_MS },
        );
      } catch (error) {
        throw new GuestCompileError(
          error instanceof Error ? `${error.name}: ${error.message}` : String(error),
        );
      }
      const entry = (name) => driverApi.getSync(name, { reference: true });
      return {
        isolate,
        start: entry('start'),
        finish: entry('finish'),
        abandon: entry('abandon'),
        freshHeapSize: isolate.getHeapStatisticsSync().total_heap_size,
      };
    } catch (error) {
      if (!isolate.isDisposed) isolate.dispose();
      throw error;
    }
  }
}

/**
 * The whole process's CPU time (getrusage, under a microsecond a call): the isolate runs on this
 * thread, and the process's other threads only add to it, erring towards a timeout.
 */
function processCpuMs() {
  const { user, system } = process.cpuUsage();
  return (user + system) / 1000;
}

/** isolated-vm rethrows an unhandled rejection on the host; describe it like a thrown value. */
function describeRejection(error) {
  const prefix = 'Unhandled promise rejection: ';
  if (error instanceof Error) {
    // isolated-vm's wording when the rejection value was an object but not an Error.
    if (/not an instance of `Error`/.test(error.message))
      return `${prefix}a value that is not an Error`;
    return `${prefix}${error.message === '' ? error.name : `${error.name}: ${error.message}`}`;
  }
  return `${prefix}${String(error)}`;
}
