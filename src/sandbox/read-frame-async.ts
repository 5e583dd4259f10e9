// Reads one wire frame without blocking the event loop: the blocking read runs on libuv's pool.
import { read } from 'node:fs';
import type { Frame } from './wire.mjs';

const HEADER_BYTES = 5;

function readSome(fd: number, buffer: Buffer, offset: number): Promise<number> {
  return new Promise((resolve, reject) =>
    read(fd, buffer, offset, buffer.length - offset, null, (error, n) => {
      if (!error) resolve(n);
      else if (error.code === 'EOF' || error.code === 'ECONNRESET') resolve(0);
      else reject(error);
    }),
  );
}

/** Fills `buffer`; false at end of file. */
async function readFull(fd: number, buffer: Buffer): Promise<boolean> {
  let filled = 0;
  while (filled < buffer.length) {
    const n = await readSome(fd, buffer, filled);
    if (n === 0) return false;
    filled += n;
  }
  return true;
}

/**
 * The asynchronous twin of wire.mjs's readFrame, for a host that drives several sandbox processes
 * at once: each waiting read occupies one thread of libuv's pool (4 by default), not the event loop.
 * Undefined when the writer has gone away.
 */
export async function readFrameAsync(fd: number): Promise<Frame | undefined> {
  const header = Buffer.allocUnsafe(HEADER_BYTES);
  if (!(await readFull(fd, header))) return undefined;
  const payload = Buffer.allocUnsafe(header.readUInt32LE(0));
  if (payload.length > 0 && !(await readFull(fd, payload))) return undefined;
  return { type: String.fromCharCode(header[4]!), payload: payload.toString('utf8') };
}
