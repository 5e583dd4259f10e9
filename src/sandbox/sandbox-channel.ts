// The host's end of the socket to a sandbox process: frames read as they arrive, never with a blocking call.
import type { Socket } from 'node:net';
import { encodeFrame, HEADER_BYTES, type Frame } from './wire.mjs';

/**
 * Frames from the socket's 'data' events, queued until asked for. The event loop and libuv's
 * thread pool never wait on the sandbox: the socket is an ordinary non-blocking stream, so any
 * number of sandbox processes can be busy while the host serves requests and reads files.
 */
export class SandboxChannel {
  readonly #chunks: Buffer[] = [];
  #buffered = 0;
  readonly #frames: Frame[] = [];
  readonly #waiting: Array<(frame: Frame | undefined) => void> = [];
  #ended = false;

  constructor(private readonly socket: Socket) {
    socket.on('data', (chunk: Buffer) => this.#receive(chunk));
    socket.on('error', () => this.#end()); // EPIPE, ECONNRESET: the process is gone
    socket.on('end', () => this.#end());
    socket.on('close', () => this.#end());
  }

  /** The next frame, or undefined once the process has gone (end of file, even mid-frame). */
  next(): Promise<Frame | undefined> {
    const frame = this.#frames.shift();
    if (frame !== undefined) return Promise.resolve(frame);
    if (this.#ended) return Promise.resolve(undefined);
    return new Promise((resolve) => this.#waiting.push(resolve));
  }

  /** False when the process is already gone; a later failure shows as the end of `next`. */
  send(type: string, payload: string): boolean {
    if (this.#ended || this.socket.destroyed) return false;
    this.socket.write(encodeFrame(type, payload));
    return true;
  }

  /** While idle the channel does not keep the host's event loop alive. */
  hold(held: boolean): void {
    if (held) this.socket.ref();
    else this.socket.unref();
  }

  close(): void {
    this.socket.destroy();
    this.#end();
  }

  #receive(chunk: Buffer): void {
    this.#chunks.push(chunk);
    this.#buffered += chunk.length;
    for (;;) {
      if (this.#buffered < HEADER_BYTES) return;
      const head = this.#peek(HEADER_BYTES);
      const size = HEADER_BYTES + head.readUInt32LE(0);
      if (this.#buffered < size) return;
      const whole = this.#take(size);
      this.#deliver({
        type: String.fromCharCode(whole[4]!),
        payload: whole.toString('utf8', HEADER_BYTES),
      });
    }
  }

  /** The first `n` buffered bytes, joined only when a frame spans several chunks. */
  #peek(n: number): Buffer {
    if (this.#chunks[0]!.length < n) {
      const joined = Buffer.concat(this.#chunks);
      this.#chunks.splice(0, this.#chunks.length, joined);
    }
    return this.#chunks[0]!.subarray(0, n);
  }

  #take(n: number): Buffer {
    const whole = this.#peek(n);
    const first = this.#chunks[0]!;
    if (first.length === n) this.#chunks.shift();
    else this.#chunks[0] = first.subarray(n);
    this.#buffered -= n;
    return whole;
  }

  #deliver(frame: Frame): void {
    const waiter = this.#waiting.shift();
    if (waiter) waiter(frame);
    else this.#frames.push(frame);
  }

  #end(): void {
    if (this.#ended) return;
    this.#ended = true;
    for (const waiter of this.#waiting.splice(0)) waiter(undefined);
  }
}
