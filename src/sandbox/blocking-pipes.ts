// Creates the two one-way pipes to a sandbox process as FIFOs in blocking mode, without an open() that could hang.
import { execFileSync } from 'node:child_process';
import { closeSync, constants, mkdtempSync, openSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';

/**
 * runUser is synchronous, so the host waits for its sandbox with a blocking read. Node's child
 * stdio pipes are non-blocking sockets; named pipes opened without O_NONBLOCK are not. Opening a
 * FIFO normally blocks until the other side opens it, which would hang the host if the sandbox
 * died first, so each end is opened against a temporary non-blocking reader instead: no open()
 * here ever waits. The host keeps one end of each pipe and hands the other to the sandbox.
 */
export interface SandboxPipes {
  /** Host writes requests here. */
  hostWrite: number;
  /** Host reads answers here; end of file means the sandbox is gone. */
  hostRead: number;
  /** A non-blocking reader on the same pipe, polled before the blocking read (wire.mjs). */
  hostPoll: number;
  /** The sandbox's ends (its fd 3, 4 and 5); the host closes them once the sandbox has them. */
  childRead: number;
  childWrite: number;
  childPoll: number;
  /** The sandbox's stderr, read back to tell why it died. */
  log: number;
  /** Closes the sandbox's ends in this process and removes the directory (the pipes live on). */
  handedOver(): void;
}

export function createSandboxPipes(): SandboxPipes {
  const dir = mkdtempSync(path.join(tmpdir(), 'opencloak-sandbox-'));
  const opened: number[] = [];
  try {
    const toChild = path.join(dir, 'to-sandbox');
    const fromChild = path.join(dir, 'from-sandbox');
    execFileSync('mkfifo', ['-m', '600', toChild, fromChild]);
    const [hostWrite, childRead, childPoll] = openBlockingPair(toChild, opened);
    const [childWrite, hostRead, hostPoll] = openBlockingPair(fromChild, opened);
    const log = openSync(path.join(dir, 'stderr.log'), 'w+', 0o600);
    opened.push(log);
    return {
      hostWrite,
      hostRead,
      hostPoll,
      childRead,
      childWrite,
      childPoll,
      log,
      handedOver() {
        closeSync(childRead);
        closeSync(childWrite);
        closeSync(childPoll);
        rmSync(dir, { recursive: true, force: true });
      },
    };
  } catch (error) {
    for (const fd of opened) closeSync(fd);
    rmSync(dir, { recursive: true, force: true });
    throw new Error(
      `could not create the pipes to the sandbox process: ${(error as Error).message}`,
    );
  }
}

/**
 * [writer, reader, poller]: the writer and reader block; the poller is the non-blocking reader
 * opened first so that the writer's open returns at once, kept for polling.
 */
function openBlockingPair(fifo: string, opened: number[]): [number, number, number] {
  const poller = openSync(fifo, constants.O_RDONLY | constants.O_NONBLOCK);
  opened.push(poller);
  const writer = openSync(fifo, constants.O_WRONLY);
  opened.push(writer);
  const reader = openSync(fifo, constants.O_RDONLY);
  opened.push(reader);
  return [writer, reader, poller];
}
