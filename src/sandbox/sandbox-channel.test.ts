// The host's frame reader: frames split across chunks or packed into one come out whole, in order; the end ends it.
import type { Socket } from 'node:net';
import { PassThrough } from 'node:stream';
import { describe, expect, it } from 'vitest';
import { SandboxChannel } from './sandbox-channel.ts';
import { encodeFrame, FRAME } from './wire.mjs';

/** A stream standing in for the socket to a sandbox process. */
function fakeSocket() {
  const stream = new PassThrough() as PassThrough & { ref(): void; unref(): void };
  stream.ref = () => undefined;
  stream.unref = () => undefined;
  return stream;
}

describe('SandboxChannel', () => {
  it('reassembles frames split at every byte and frames packed into one chunk', async () => {
    const socket = fakeSocket();
    const channel = new SandboxChannel(socket as unknown as Socket);
    const big = 'é'.repeat(70_000); // multi-byte text across many chunks
    const bytes = Buffer.concat([
      encodeFrame(FRAME.lookup, '["t","k"]'),
      encodeFrame(FRAME.batchDone, big),
      encodeFrame(FRAME.ready, ''),
    ]);
    for (let i = 0; i < 64; i++) socket.emit('data', bytes.subarray(i, i + 1));
    socket.emit('data', bytes.subarray(64));
    expect(await channel.next()).toEqual({ type: FRAME.lookup, payload: '["t","k"]' });
    expect(await channel.next()).toEqual({ type: FRAME.batchDone, payload: big });
    expect(await channel.next()).toEqual({ type: FRAME.ready, payload: '' });
  });

  it('answers undefined once the process has gone, also in the middle of a frame', async () => {
    const socket = fakeSocket();
    const channel = new SandboxChannel(socket as unknown as Socket);
    const waiting = channel.next();
    socket.emit('data', encodeFrame(FRAME.batchDone, 'cut off').subarray(0, 8));
    socket.emit('end');
    expect(await waiting).toBeUndefined();
    expect(await channel.next()).toBeUndefined();
    expect(channel.send(FRAME.runBatch, '{}')).toBe(false);
  });
});
