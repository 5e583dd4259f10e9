// The host side of one sandbox process: starts it, hands it batches of users, answers its lookups, notices when it dies.
import { spawn, type ChildProcess } from 'node:child_process';
import { once } from 'node:events';
import type { Socket } from 'node:net';
import { setPriority } from 'node:os';
import path from 'node:path';
import type { Readable } from 'node:stream';
import { installRoot } from '../shared/index.ts';
import { SandboxChannel } from './sandbox-channel.ts';
import { TaskCompileError } from './task-compile-error.ts';
import type { SandboxLimits } from './types.ts';
import { BATCH_SEPARATOR, FRAME, WATCHDOG_MARKER, type Frame } from './wire.mjs';

/** What the sandbox process needs to compile the task (sent once, as the init frame). */
export interface SandboxInit {
  code: string;
  parameters: readonly string[];
  bodySuffix: string;
  /** Compile the task anew for each user (see fresh-per-user.ts). */
  freshPerUser: boolean;
  limits: SandboxLimits;
  maxTextLength: number;
  maxErrorLength: number;
  hasLookup: boolean;
}

export type LookupFn = (table: string, key: string) => string | undefined;

export type CrashCause = 'memory' | 'timeout' | 'unknown';

export type BatchReply =
  | { kind: 'outcomes'; jsons: string[] }
  /** The process died during the batch; `cause` is read from what it wrote to stderr. */
  | { kind: 'crashed'; cause: CrashCause };

/** The sandbox processes' niceness unless `sandbox.niceness` says otherwise (0 is the server's, 19 the lowest). */
export const SANDBOX_NICENESS = 19;

/** Enough of a crashed process's stderr to find V8's out-of-memory report or the watchdog's line. */
const STDERR_KEPT = 65_536;

// From the install root, not import.meta.url: the CLI runs bundled from dist/.
const CHILD_ENTRY = path.join(installRoot(), 'src/sandbox/child/sandbox-child.mjs');

/**
 * V8 flags of the sandbox process, so that what one user's run leaves in the engine cannot change
 * what a later user's run observes (sandbox-cross-user-state.test.ts). V8 flags are per process,
 * so they hold for every isolate in it. Without them a run could tell, from the depth at which a
 * recursion overflows the stack, whether an earlier user had warmed a function:
 *   --jitless               one tier (the interpreter): no Sparkplug, Maglev or Turbofan frames,
 *                           no native regexp code; also no WebAssembly, which tasks never get
 *   --no-expose-wasm        says so, rather than a warning on stderr
 *   --no-lazy               every function compiled when its script is, not on its first call
 *   --no-flush-bytecode     and never uncompiled by age, which would bring history back
 *   --no-lazy-feedback-allocation  a function's feedback is allocated on its first call, not
 *                           after some number of calls, so warming up once (guest/warm-up.js)
 *                           leaves the shared functions in their final state
 * The last three keep the functions every run shares (SES, the stdlib, the driver) in one state
 * after the warm-up; no probe needs them today, they remove the ways that state could still move.
 * V8's compilation cache stays on: with the task compiled afresh per user (guest/task-functions.js)
 * no probe could tell a cached compilation from a new one, and turning it off halved the speed
 * of fresh copies (measured with the probes of the test above, also across the 16-copy batches).
 */
export const SANDBOX_V8_FLAGS = [
  '--jitless',
  '--no-expose-wasm',
  '--no-lazy',
  '--no-flush-bytecode',
  '--no-lazy-feedback-allocation',
] as const;

// V8 prints one of these when a heap allocation fails for good (isolated-vm cannot catch every
// such case: a single allocation larger than the heap's headroom aborts the whole process).
const OUT_OF_MEMORY = /is_heap_oom|out of memory|CALL_AND_RETRY_LAST|Allocation failed/i;

/**
 * Why a separate process: isolated-vm contains most memory bombs, but some (a Map or object
 * that grows past the limit, a huge Array.prototype.fill) abort the process hosting the isolate.
 * In the cloak that would be a crash any task could trigger on purpose for one chosen user, and
 * an observable crash is a side channel. Here it only ends this process; the user gets the
 * memory exception and the next user gets a fresh process.
 *
 * Everything here is asynchronous: the host talks to the process over a socket pair (its fd 3)
 * and never waits with a blocking read, on the event loop or on libuv's thread pool.
 */
export class SandboxProcess {
  #alive = true;
  readonly #channel: SandboxChannel;
  /** The last STDERR_KEPT bytes the process wrote: its V8 crash report, if any. */
  #stderr = '';
  /** Settles once the process has exited and its stderr has been read to the end. */
  readonly #closed: Promise<unknown>;

  private constructor(
    private readonly child: ChildProcess,
    niceness: number,
  ) {
    this.#niceness = niceness;
    this.#channel = new SandboxChannel(child.stdio[3] as Socket);
    const stderr = child.stderr as Readable;
    stderr.setEncoding('utf8');
    stderr.on('data', (text: string) => {
      this.#stderr = (this.#stderr + text).slice(-STDERR_KEPT);
    });
    this.#closed = once(child, 'close').catch(() => undefined);
    child.on('error', () => {
      // A failed spawn also shows up as the end of the channel, which is where it is handled.
    });
  }

  /**
   * Starts the process and hands it the task; `ready` tells when it can take users. Returns at
   * once, so that a run stopped while its processes start can kill them too.
   */
  static start(init: SandboxInit): SandboxProcess {
    const niceness = init.limits.niceness ?? SANDBOX_NICENESS;
    const spare = SandboxProcess.#spare;
    SandboxProcess.#spare = undefined;
    if (spare?.alive && spare.#niceness === niceness) {
      spare.reinit(init);
      spare.#reused = true;
      return spare;
    }
    spare?.dispose();
    const sandbox = SandboxProcess.#spawn(niceness);
    sandbox.reinit(init);
    return sandbox;
  }

  /** A process started ahead of need (startSpare), for the next `start`. */
  static #spare: SandboxProcess | undefined;

  /**
   * Starts a process before any task needs one, which the next `start` hands its task to: a
   * command about to run a task (the CLI's `task run`) pays Node's start-up, about a fifth of a
   * second without its snapshot, while it opens the platform rather than after. The process has
   * run nothing and waits for its first task, so it is as new as one started then; it is
   * unreferenced meanwhile (a command that never runs a task still exits). `endSpare` ends it.
   */
  static startSpare(niceness: number = SANDBOX_NICENESS): void {
    if (SandboxProcess.#spare?.alive) return;
    SandboxProcess.#spare = SandboxProcess.#spawn(niceness);
  }

  /** The spare process's id, while there is one (for monitoring and tests). */
  static get sparePid(): number | undefined {
    return SandboxProcess.#spare?.pid;
  }

  /** Ends the spare process if no task took it; resolves once it has exited. */
  static async endSpare(): Promise<void> {
    const spare = SandboxProcess.#spare;
    SandboxProcess.#spare = undefined;
    if (spare === undefined) return;
    spare.dispose();
    await spare.exited;
  }

  static #spawn(niceness: number): SandboxProcess {
    const child = spawn(
      process.execPath,
      ['--no-node-snapshot', ...SANDBOX_V8_FLAGS, CHILD_ENTRY],
      {
        // Nothing of the host's environment; UTC so local-time Date methods agree everywhere.
        env: { TZ: 'UTC' },
        stdio: ['ignore', 'ignore', 'pipe', 'pipe'],
        windowsHide: true,
      },
    );
    lowerPriority(child, niceness);
    const sandbox = new SandboxProcess(child, niceness);
    // Waiting for its first task holds nothing: no event loop is kept alive by an idle process.
    sandbox.#hold(false);
    return sandbox;
  }

  /**
   * Settles once the process has compiled the task: rejects with TaskCompileError when SES
   * rejects the code, with Error when the process cannot start (or was stopped meanwhile).
   */
  ready: Promise<void> = Promise.resolve();

  #tasks = 0;
  #reused = false;
  readonly #niceness: number;

  /**
   * Whether the process was started before its current task (kept from an earlier task, or a
   * spare): it may have died while it waited, which a process started for the task cannot have.
   */
  get reused(): boolean {
    return this.#reused;
  }

  /** Tasks this process has been handed, the first included (process-cache.ts bounds it). */
  get tasks(): number {
    return this.#tasks;
  }

  /** The operating system's id of the process (undefined if it could not be started). */
  get pid(): number | undefined {
    return this.child.pid;
  }

  /** Whether the process is still there to take work (not disposed, not crashed). */
  get alive(): boolean {
    return this.#alive;
  }

  /**
   * Hands an idle process the next task (of the same organisation and limits: process-cache.ts):
   * the process drops its isolate and compiles the task in a new one, and `ready` tells when it
   * can take users, exactly as after start.
   */
  reinit(init: SandboxInit): void {
    this.#reused = this.#tasks > 0;
    this.#tasks++;
    this.#handTask(init);
  }

  #handTask(init: SandboxInit): void {
    this.#hold(true);
    const sent = this.#alive && this.#channel.send(FRAME.init, JSON.stringify(init));
    this.ready = (sent ? this.#channel.next() : Promise.resolve(undefined))
      .then((reply) => this.#checkReady(reply))
      .finally(() => this.#hold(false));
    // Whoever runs users waits for it; a program disposed before its first run never does.
    this.ready.catch(() => undefined);
  }

  /**
   * Runs several users in one exchange (one user is a batch of one): the hand-over between the
   * processes, not the task, dominates a small task's cost. Lookups are answered as they come.
   * A crash loses the whole batch; the caller replays it. Never throws.
   */
  async runBatch(inputJsons: string[], lookup: LookupFn): Promise<BatchReply> {
    if (!this.#alive) return { kind: 'crashed', cause: 'unknown' };
    this.#hold(true);
    try {
      if (!this.#channel.send(FRAME.runBatch, inputJsons.join(BATCH_SEPARATOR))) {
        return await this.#crashed();
      }
      for (;;) {
        const reply = await this.#onBatchFrame(await this.#channel.next(), lookup);
        if (reply !== undefined) return reply;
      }
    } finally {
      this.#hold(false);
    }
  }

  /** One frame of a batch exchange: the batch's reply, or undefined after answering a lookup. */
  async #onBatchFrame(frame: Frame | undefined, lookup: LookupFn): Promise<BatchReply | undefined> {
    if (frame === undefined || !this.#alive) return this.#crashed();
    if (frame.type === FRAME.batchDone) {
      return { kind: 'outcomes', jsons: frame.payload.split(BATCH_SEPARATOR) };
    }
    if (frame.type !== FRAME.lookup) return this.#crashed();
    const [table, key] = JSON.parse(frame.payload) as [string, string];
    if (!this.#channel.send(FRAME.lookupAnswer, answerLookup(lookup, table, key))) {
      return this.#crashed();
    }
    return undefined;
  }

  /**
   * Ends the process at once (SIGKILL), whatever it is doing: a cancelled or timed-out run's
   * work stops here, not when its batch would have ended. A batch in flight answers 'crashed'.
   */
  dispose(): void {
    if (!this.#alive) return;
    this.#alive = false;
    this.#channel.close();
    try {
      if (this.child.exitCode === null && this.child.signalCode === null) {
        this.child.kill('SIGKILL');
      }
    } catch {
      // Already gone.
    }
    // Until it has exited, whoever awaits `exited` must keep the event loop alive (a command
    // that stops a run and then finishes its own work would otherwise end in between).
    this.child.ref();
    (this.child.stderr as Socket | null)?.ref();
  }

  /** Settles once the process has exited (after dispose, or a crash). */
  get exited(): Promise<unknown> {
    return this.#closed;
  }

  /** The reply to the init frame: ready, or the reason the process cannot run the task. */
  async #checkReady(reply: Frame | undefined): Promise<void> {
    if (reply?.type === FRAME.ready && this.#alive) return;
    this.dispose();
    if (reply?.type === FRAME.compileError) throw new TaskCompileError(reply.payload);
    await this.#closed;
    const detail =
      reply?.type === FRAME.fatal
        ? reply.payload
        : this.#stderr.trim().split('\n').slice(-5).join(' | ');
    throw new Error(`the sandbox process could not start: ${detail || 'it exited without a word'}`);
  }

  /** The process died (or broke the protocol): why, from its stderr once it has exited. */
  async #crashed(): Promise<BatchReply> {
    const wasAlive = this.#alive;
    this.dispose();
    // Answered only once the process has exited: whoever waits for this batch (a run, and the
    // run cap) then knows that its work has stopped.
    await this.#closed;
    return { kind: 'crashed', cause: wasAlive ? crashCause(this.#stderr) : 'unknown' };
  }

  /**
   * While it works for a run the process keeps the host's event loop alive (someone waits for
   * it); idle, it does not, so a command that has finished can exit.
   */
  #hold(held: boolean): void {
    if (!this.#alive) return; // disposed: referenced until it has exited (dispose)
    this.#channel.hold(held);
    const stderr = this.child.stderr as Socket | null;
    if (held) {
      this.child.ref();
      stderr?.ref();
    } else {
      this.child.unref();
      stderr?.unref();
    }
  }
}

/** SandboxProcess.startSpare, for the parts that open the platform (a command about to run a task). */
export function startSpareProcess(niceness?: number): void {
  SandboxProcess.startSpare(niceness);
}

/** SandboxProcess.endSpare. */
export function endSpareProcess(): Promise<void> {
  return SandboxProcess.endSpare();
}

/** Why the sandbox process died, from the last of what it wrote to stderr. */
export function crashCause(stderr: string): CrashCause {
  if (stderr.includes(WATCHDOG_MARKER)) return 'timeout';
  if (OUT_OF_MEMORY.test(stderr)) return 'memory';
  return 'unknown';
}

function answerLookup(lookup: LookupFn, table: string, key: string): string {
  try {
    const value = lookup(table, key);
    return JSON.stringify({ value: value === undefined ? null : String(value) });
  } catch {
    return JSON.stringify({ error: true });
  }
}

/**
 * Sandboxes yield the cores to the server: otherwise, with every core busy, one user's long run
 * shows in the latency of every other request until it ends (a timing channel around the release
 * schedule), and the server's own work waits behind the tasks.
 */
function lowerPriority(child: ChildProcess, niceness: number): void {
  if (child.pid === undefined) return;
  try {
    setPriority(child.pid, niceness);
  } catch {
    // Not permitted here (some containers): the sandbox keeps the server's priority.
  }
}
