// compileTask: turns task code into a program that runs once per user in the sandbox; the contract is below.
//
// WHAT A TASK SEES. The code is the body of one strict-mode function. Its "globals" are:
//   tables.<name>            that user's prefetched rows (array of row objects), per table
//   report_property(l, v)    counts (String(l), String(v)) once per user; l non-empty, no ": "
//   lookup(table, key)       a lookup-table value as a string, or undefined (host.lookup; no host: undefined)
//   to_date(seconds)         {year, month, day, hour, min, sec, wday (1 = Sunday), yday} in UTC
//   accumulator              streaming state: read it, assign a JSON value; returned in the outcome
//   Utils, DateTime          the small stdlib (guest/stdlib.js; README.md lists every function)
// plus the standard ECMAScript built-ins, frozen by SES lockdown(). Nothing of the host: no
// require, process, fetch, timers, import(), files or network. Date.now(), new Date() with no
// argument and Math.random() throw (SES's tamed versions), so a run depends only on its data.
// Local-time Date methods use UTC. Writing a global (globalThis.x = 1) throws: the global object
// is frozen; top-level let/const/var/function are the function's own locals.
//
// LIMITS (SandboxLimits): wall-clock time per user (promise jobs the run leaves behind count),
// the isolate's heap, distinct properties per user; labels and values of at most 1,000 characters.
//
// WHAT BECOMES AN EXCEPTION (the outcome's `error`, counted and anonymized like a bucket, so it is
// short and free of host detail): a thrown Error as "Name: message", any other thrown value as
// String(x), cut to 300 characters; a broken limit (even if the task catches the error); a new
// accumulator that is not JSON; a promise rejection nobody handled; "Timeout: ..."; "Out of
// memory: ...". A failed run keeps the previous accumulator.
//
// WHY NO STATE CAN PASS BETWEEN USERS. lockdown() froze every intrinsic; the task runs in a SES
// compartment whose global object is hardened; the stdlib and lookup are hardened. Each user is
// one call with fresh arguments: new rows, a new report_property bound to that run (dead once it
// ends), new locals and closures. So everything a run can reach is either frozen or its own, and
// a closure or promise job that outlives its run can only touch that run's objects. Promise jobs
// run before the run's outcome is read (the timeout covers them). What V8 itself keeps between
// runs (JIT tiers, per-function feedback, first calls, the heap) is made the same for every run:
// one tier (--jitless), a task function compiled for each user unless it has no nested state
// (fresh-per-user.ts), a warm-up of the shared functions, a new isolate after a heavy run
// (README.md, sandbox-cross-user-state.test.ts). A run that times out or exhausts memory retires
// the whole isolate, and a compartment whose SES evaluator a run broke is rebuilt.
//
// WHERE IT RUNS. In a separate Node process (sandbox-process.ts) holding one isolated-vm isolate,
// because some memory exhaustion aborts the process that hosts an isolate. Every run is
// asynchronous: the host talks to that process over a socket and never blocks while it works.
import { checkTaskSyntax } from './check-task-syntax.ts';
import { needsFreshFunctionPerUser } from './fresh-per-user.ts';
import {
  SandboxProcess,
  type BatchReply,
  type CrashCause,
  type SandboxInit,
} from './sandbox-process.ts';
import { SandboxProcessCache } from './process-cache.ts';
import { TASK_BODY_SUFFIX, TASK_PARAMETERS } from './task-shape.ts';
import { TaskCompileError } from './task-compile-error.ts';
import {
  DEFAULT_SANDBOX_LIMITS,
  MAX_ERROR_MESSAGE_LENGTH,
  MAX_PROPERTY_TEXT_LENGTH,
  type SandboxLimits,
  type TaskHost,
  type TaskProgram,
  type UserInput,
  type UserOutcome,
} from './types.ts';

/**
 * Checks the code (throws TaskCompileError with line and column) and returns a program whose
 * sandbox process starts on the first runUser, so validating a task costs no process.
 */
export function compileTask(
  code: string,
  limits: Partial<SandboxLimits> = {},
  host: TaskHost = {},
  reuse?: ProcessReuse,
): TaskProgram {
  if (typeof code !== 'string') throw new TypeError('compileTask: the task code must be a string');
  const settled = settleLimits(limits);
  checkTaskSyntax(code);
  return new SandboxedTaskProgram(
    {
      code,
      parameters: TASK_PARAMETERS,
      bodySuffix: TASK_BODY_SUFFIX,
      freshPerUser: needsFreshFunctionPerUser(code),
      limits: settled,
      maxTextLength: MAX_PROPERTY_TEXT_LENGTH,
      maxErrorLength: MAX_ERROR_MESSAGE_LENGTH,
      hasLookup: typeof host.lookup === 'function',
    },
    host,
    reuse,
  );
}

/**
 * Where a program takes its process from and gives it back (process-cache.ts), and whose tasks
 * may share processes: the organisation. Without it every program starts a process of its own.
 */
export interface ProcessReuse {
  cache: SandboxProcessCache;
  scope: string;
}

class SandboxedTaskProgram implements TaskProgram {
  private sandbox: SandboxProcess | undefined;
  private disposed = false;
  private queue: Promise<unknown> = Promise.resolve();
  /** Settles once the disposed program's process has exited. */
  private exited: Promise<void> | undefined;
  private readonly lookup: (table: string, key: string) => string | undefined;
  /** Batches handed in and not yet answered: a process is only given back when idle. */
  private pending = 0;

  constructor(
    private readonly init: SandboxInit,
    host: TaskHost,
    private readonly reuse?: ProcessReuse,
  ) {
    this.lookup = (table, key) => host.lookup?.(table, key);
  }

  async runUser(input: UserInput): Promise<UserOutcome> {
    const [outcome] = await this.runUsers([input]);
    return outcome!;
  }

  /** Runs wait for the one before them: a process takes one batch at a time. */
  runUsers(inputs: UserInput[]): Promise<UserOutcome[]> {
    this.pending++;
    const outcomes = this.queue.then(() => this.runInTurn(inputs)).finally(() => this.pending--);
    this.queue = outcomes.catch(() => undefined);
    return outcomes;
  }

  private async runInTurn(inputs: UserInput[]): Promise<UserOutcome[]> {
    this.throwIfDisposed();
    if (inputs.length === 0) return [];
    const reply = await this.runBatch(inputs);
    if (isComplete(reply, inputs)) return this.completeOutcomes(reply.jsons, inputs);
    if (inputs.length === 1) return [toOutcome(crashOf(reply), inputs[0]!, this.init.limits)];
    // The process died somewhere in the batch. Runs depend only on their input and have no
    // effects, so replaying the users one at a time (each crash in a fresh process) gives every
    // user exactly the outcome a single run would have, and the crash to the user who caused it.
    const outcomes: UserOutcome[] = [];
    for (const input of inputs) {
      const one = await this.runBatch([input]);
      outcomes.push(
        isComplete(one, [input])
          ? this.completeOutcomes(one.jsons, [input])[0]!
          : toOutcome(crashOf(one), input, this.init.limits),
      );
    }
    return outcomes;
  }

  /** One exchange; a process that died (or answered wrongly) is replaced before the next one. */
  private async runBatch(inputs: UserInput[]): Promise<BatchReply> {
    // The first run starts the process; a process that died with the previous batch is replaced.
    const sandbox = (this.sandbox ??= this.#takeOrStart());
    try {
      await sandbox.ready;
    } catch (error) {
      this.retire(sandbox);
      this.throwIfDisposed();
      // One that waited (kept, or a spare) may have died meanwhile: the batch goes to another
      // process, in the end one started for it. A task that does not compile fails anywhere.
      if (sandbox.reused && !(error instanceof TaskCompileError)) return this.runBatch(inputs);
      throw error;
    }
    this.throwIfDisposed();
    const reply = await sandbox.runBatch(inputs.map(wireInput), this.lookup);
    this.throwIfDisposed();
    if (!isComplete(reply, inputs)) this.retire(sandbox);
    return reply;
  }

  /** The outcomes of a batch that answered for every user, in input order. */
  private completeOutcomes(jsons: readonly string[], inputs: UserInput[]): UserOutcome[] {
    return jsons.map((json, i) =>
      toOutcome({ kind: 'outcome', json }, inputs[i]!, this.init.limits),
    );
  }

  /**
   * Kills the sandbox process at once, also in the middle of a batch (whose runUsers then
   * rejects): a cancelled run's work stops here.
   */
  dispose(): Promise<void> {
    if (this.exited) return this.exited;
    this.disposed = true;
    const sandbox = this.sandbox;
    this.sandbox = undefined;
    sandbox?.dispose();
    this.exited = sandbox ? sandbox.exited.then(() => undefined) : Promise.resolve();
    return this.exited;
  }

  /**
   * Ends the program like dispose, but gives an idle, healthy process back to the cache for the
   * organisation's next task instead of killing it (dispose without a cache, or while busy).
   */
  release(): Promise<void> {
    if (this.exited) return this.exited;
    const sandbox = this.sandbox;
    if (!this.reuse || !sandbox || !sandbox.alive || this.pending > 0) return this.dispose();
    this.disposed = true;
    this.sandbox = undefined;
    this.exited = this.reuse.cache.put(this.#cacheKey(), sandbox);
    return this.exited;
  }

  #takeOrStart(): SandboxProcess {
    const taken = this.reuse?.cache.take(this.#cacheKey(), this.init);
    return taken ?? SandboxProcess.start(this.init);
  }

  #cacheKey(): string {
    return SandboxProcessCache.keyOf(this.reuse!.scope, this.init);
  }

  private retire(sandbox: SandboxProcess): void {
    sandbox.dispose();
    if (this.sandbox === sandbox) this.sandbox = undefined;
  }

  private throwIfDisposed(): void {
    if (this.disposed) throw new Error('runUsers: this task program has been disposed');
  }
}

/** A batch answered with one outcome per user; anything else is replayed user by user. */
function isComplete(
  reply: BatchReply,
  inputs: readonly UserInput[],
): reply is Extract<BatchReply, { kind: 'outcomes' }> {
  return reply.kind === 'outcomes' && reply.jsons.length === inputs.length;
}

/** A batch that did not answer for every user counts as a crash (of unknown cause if it answered). */
function crashOf(reply: BatchReply): Extract<RunReply, { kind: 'crashed' }> {
  return reply.kind === 'crashed' ? reply : { kind: 'crashed', cause: 'unknown' };
}

function wireInput(input: UserInput): string {
  return JSON.stringify(
    input.accumulator === undefined
      ? { t: input.tables }
      : { t: input.tables, a: input.accumulator },
  );
}

/** The sandbox's answer: {ok:true,p,a?} | {ok:false,e} | {ok:false,limit}. */
interface WireOutcome {
  ok: boolean;
  p?: Array<[string, string]>;
  a?: unknown;
  e?: string;
  limit?: 'timeout' | 'memory';
}

/** One user's outcome, from the sandbox's JSON or from the crash that ended the process. */
type RunReply = { kind: 'outcome'; json: string } | { kind: 'crashed'; cause: CrashCause };

function toOutcome(reply: RunReply, input: UserInput, limits: SandboxLimits): UserOutcome {
  if (reply.kind === 'crashed') return failed(crashMessage(reply.cause, limits), input);
  const wire = JSON.parse(reply.json) as WireOutcome;
  if (wire.ok) {
    const outcome: UserOutcome = { ok: true, properties: wire.p ?? [] };
    if ('a' in wire) outcome.accumulator = wire.a;
    return outcome;
  }
  if (wire.limit !== undefined) return failed(crashMessage(wire.limit, limits), input);
  return failed(wire.e ?? 'Error', input);
}

function failed(message: string, input: UserInput): UserOutcome {
  const outcome: UserOutcome = { ok: false, error: message.slice(0, MAX_ERROR_MESSAGE_LENGTH) };
  if (input.accumulator !== undefined) outcome.accumulator = input.accumulator;
  return outcome;
}

function crashMessage(cause: CrashCause, limits: SandboxLimits): string {
  switch (cause) {
    case 'timeout':
      return `Timeout: the task ran longer than ${limits.timeoutMs} ms for this user`;
    case 'memory':
      return `Out of memory: the task used more than ${limits.memoryLimitMb} MB for this user`;
    default:
      return "Sandbox failure: the sandbox stopped unexpectedly during this user's run";
  }
}

function settleLimits(limits: Partial<SandboxLimits>): SandboxLimits {
  const settled = { ...DEFAULT_SANDBOX_LIMITS, ...limits };
  const minimum: Record<keyof SandboxLimits, number> = {
    timeoutMs: 1,
    memoryLimitMb: 8, // isolated-vm's floor
    maxPropertiesPerUser: 1,
    niceness: 0,
  };
  for (const [name, floor] of Object.entries(minimum) as Array<[keyof SandboxLimits, number]>) {
    const value = settled[name];
    if (value === undefined || !Number.isSafeInteger(value) || value < floor) {
      throw new RangeError(
        `sandbox limit ${name} must be an integer of at least ${floor}, got ${value}`,
      );
    }
  }
  return settled;
}
