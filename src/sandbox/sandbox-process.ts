// The host side of one sandbox process: starts it, hands it users one at a time, answers its lookups, notices when it dies.
import { spawn, type ChildProcess } from 'node:child_process';
import { closeSync, fstatSync, readSync } from 'node:fs';
import { setPriority } from 'node:os';
import path from 'node:path';
import { installRoot } from '../shared/index.ts';
import { createSandboxPipes, type SandboxPipes } from './blocking-pipes.ts';
import { readFrameAsync } from './read-frame-async.ts';
import { TaskCompileError } from './task-compile-error.ts';
import type { SandboxLimits } from './types.ts';
import {
  BATCH_SEPARATOR,
  FRAME,
  readFrame,
  WATCHDOG_MARKER,
  writeFrame,
  type Frame,
} from './wire.mjs';

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

export type RunReply =
  | { kind: 'outcome'; json: string }
  /** The process died during the run; `cause` is read from what it wrote to stderr. */
  | { kind: 'crashed'; cause: 'memory' | 'timeout' | 'unknown' };

export type BatchReply =
  | { kind: 'outcomes'; jsons: string[] }
  | { kind: 'crashed'; cause: 'memory' | 'timeout' | 'unknown' };

/** The sandbox processes' niceness (0 is the server's, 19 the lowest). */
const SANDBOX_NICENESS = 19;

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
 */
export class SandboxProcess {
  private alive = true;

  private constructor(
    private readonly child: ChildProcess,
    private readonly pipes: SandboxPipes,
  ) {}

  /** Throws TaskCompileError when SES rejects the code, Error when the process cannot start. */
  static start(init: SandboxInit): SandboxProcess {
    const sandbox = SandboxProcess.spawn();
    sandbox.checkReady(
      sandbox.send(FRAME.init, JSON.stringify(init)) ? sandbox.readSync() : undefined,
    );
    return sandbox;
  }

  /** `start` without blocking the event loop while the process starts (about 150 ms). */
  static async startAsync(init: SandboxInit): Promise<SandboxProcess> {
    const sandbox = SandboxProcess.spawn();
    const sent = sandbox.send(FRAME.init, JSON.stringify(init));
    sandbox.checkReady(sent ? await readFrameAsync(sandbox.pipes.hostRead) : undefined);
    return sandbox;
  }

  private static spawn(): SandboxProcess {
    const pipes = createSandboxPipes();
    let child: ChildProcess;
    try {
      child = spawn(process.execPath, ['--no-node-snapshot', ...SANDBOX_V8_FLAGS, CHILD_ENTRY], {
        // Nothing of the host's environment; UTC so local-time Date methods agree everywhere.
        env: { TZ: 'UTC' },
        stdio: ['ignore', 'ignore', pipes.log, pipes.childRead, pipes.childWrite, pipes.childPoll],
        windowsHide: true,
      });
    } catch (error) {
      for (const fd of [pipes.hostWrite, pipes.hostRead, pipes.hostPoll, pipes.log])
        closeQuietly(fd);
      throw error;
    } finally {
      pipes.handedOver();
    }
    child.on('error', () => {
      // A failed spawn also shows up as end of file on the pipe, which is where it is handled.
    });
    child.unref();
    lowerPriority(child);
    return new SandboxProcess(child, pipes);
  }

  /** Runs one user. Never throws: a dead process is a 'crashed' reply and this object is spent. */
  run(inputJson: string, lookup: LookupFn): RunReply {
    if (!this.alive) return { kind: 'crashed', cause: 'unknown' };
    if (!this.send(FRAME.run, inputJson)) return this.crashed();
    for (;;) {
      const frame = readFrame(this.pipes.hostRead, this.pipes.hostPoll);
      if (frame === undefined) return this.crashed();
      if (frame.type === FRAME.done) return { kind: 'outcome', json: frame.payload };
      if (frame.type !== FRAME.lookup) return this.crashed();
      const [table, key] = JSON.parse(frame.payload) as [string, string];
      if (!this.send(FRAME.lookupAnswer, answerLookup(lookup, table, key))) return this.crashed();
    }
  }

  /**
   * Runs several users in one exchange: the hand-over between the processes, not the task,
   * dominates a small task's cost. A crash loses the whole batch; the caller replays it.
   */
  runBatch(inputJsons: string[], lookup: LookupFn): BatchReply {
    if (!this.alive) return { kind: 'crashed', cause: 'unknown' };
    if (!this.send(FRAME.runBatch, inputJsons.join(BATCH_SEPARATOR))) return this.crashed();
    for (;;) {
      const reply = this.onBatchFrame(readFrame(this.pipes.hostRead, this.pipes.hostPoll), lookup);
      if (reply !== undefined) return reply;
    }
  }

  /**
   * runBatch without blocking the event loop, so that one host can keep several sandbox processes
   * busy at once. The same protocol: lookups are answered as they come.
   */
  async runBatchAsync(inputJsons: string[], lookup: LookupFn): Promise<BatchReply> {
    if (!this.alive) return { kind: 'crashed', cause: 'unknown' };
    if (!this.send(FRAME.runBatch, inputJsons.join(BATCH_SEPARATOR))) return this.crashed();
    for (;;) {
      const reply = this.onBatchFrame(await readFrameAsync(this.pipes.hostRead), lookup);
      if (reply !== undefined) return reply;
    }
  }

  /** One frame of a batch exchange: the batch's reply, or undefined after answering a lookup. */
  private onBatchFrame(frame: Frame | undefined, lookup: LookupFn): BatchReply | undefined {
    if (frame === undefined) return this.crashed();
    if (frame.type === FRAME.batchDone) {
      return { kind: 'outcomes', jsons: frame.payload.split(BATCH_SEPARATOR) };
    }
    if (frame.type !== FRAME.lookup) return this.crashed();
    const [table, key] = JSON.parse(frame.payload) as [string, string];
    if (!this.send(FRAME.lookupAnswer, answerLookup(lookup, table, key))) return this.crashed();
    return undefined;
  }

  dispose(): void {
    if (!this.alive) return;
    this.alive = false;
    // End of file on its input makes the process exit on its own.
    for (const fd of [
      this.pipes.hostWrite,
      this.pipes.hostRead,
      this.pipes.hostPoll,
      this.pipes.log,
    ]) {
      closeQuietly(fd);
    }
  }

  private readSync(): Frame | undefined {
    return readFrame(this.pipes.hostRead, this.pipes.hostPoll);
  }

  /** The reply to the init frame: ready, or the reason the process cannot run the task. */
  private checkReady(reply: Frame | undefined): void {
    if (reply?.type === FRAME.ready) return;
    const log = this.stderrText();
    this.kill();
    if (reply?.type === FRAME.compileError) throw new TaskCompileError(reply.payload);
    const detail =
      reply?.type === FRAME.fatal ? reply.payload : log.trim().split('\n').slice(-5).join(' | ');
    throw new Error(`the sandbox process could not start: ${detail || 'it exited without a word'}`);
  }

  private send(type: string, payload: string): boolean {
    try {
      writeFrame(this.pipes.hostWrite, type, payload);
      return true;
    } catch {
      return false; // EPIPE: the process is gone
    }
  }

  private crashed(): RunReply & BatchReply {
    const log = this.stderrText();
    this.kill();
    return { kind: 'crashed', cause: crashCause(log) };
  }

  private kill(): void {
    this.dispose();
    try {
      if (this.child.exitCode === null && this.child.signalCode === null)
        this.child.kill('SIGKILL');
    } catch {
      // Already gone.
    }
  }

  /** The last 64 KiB of the process's stderr (its V8 crash report, if any). */
  private stderrText(): string {
    try {
      const size = fstatSync(this.pipes.log).size;
      const length = Math.min(size, 65_536);
      const buffer = Buffer.alloc(length);
      readSync(this.pipes.log, buffer, 0, length, size - length);
      return buffer.toString('utf8');
    } catch {
      return '';
    }
  }
}

/** Why the sandbox process died, from the last of what it wrote to stderr. */
export function crashCause(stderr: string): 'memory' | 'timeout' | 'unknown' {
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

function closeQuietly(fd: number): void {
  try {
    closeSync(fd);
  } catch {
    // Already closed.
  }
}

/**
 * Sandboxes yield the cores to the server: otherwise, with every core busy, one user's long run
 * shows in the latency of every other request until it ends (a timing channel around the release
 * schedule), and the server's own work waits behind the tasks.
 */
function lowerPriority(child: ChildProcess): void {
  if (child.pid === undefined) return;
  try {
    setPriority(child.pid, SANDBOX_NICENESS);
  } catch {
    // Not permitted here (some containers): the sandbox keeps the server's priority.
  }
}
