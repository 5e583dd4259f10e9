// The wire between the host and its sandbox process: length-prefixed frames over one socket pair.
import { readSync, writeSync } from 'node:fs';

/**
 * Frame types, one ASCII letter each. The host only ever waits for the sandbox's answer and the
 * sandbox for the host's. The host reads and writes its end of the socket asynchronously
 * (sandbox-channel.ts); the sandbox process, whose only job is the run, blocks on its end.
 */
export const FRAME = Object.freeze({
  init: 'I', // host -> sandbox: the task and its limits (JSON)
  ready: 'K', // sandbox -> host: compiled, ready for users
  compileError: 'C', // sandbox -> host: SES could not compile the task (message)
  fatal: 'F', // sandbox -> host: the sandbox could not start (message)
  lookup: 'L', // sandbox -> host: [table, key] during a run
  lookupAnswer: 'V', // host -> sandbox: {"value": string|null} or {"error": true}
  runBatch: 'B', // host -> sandbox: users' input JSON texts, one per line (BATCH_SEPARATOR)
  batchDone: 'E', // sandbox -> host: their outcome JSON texts, in order, one per line
});

/** The line the sandbox's watchdog writes to stderr just before it kills a run that hung. */
export const WATCHDOG_MARKER = 'opencloak-sandbox-watchdog: the run outlived its budget';

/** A frame is a 4-byte little-endian payload length, the 1-byte type, then the UTF-8 payload. */
export const HEADER_BYTES = 5;

/** One frame as a single buffer. */
export function encodeFrame(type, payload) {
  const length = Buffer.byteLength(payload, 'utf8');
  const frame = Buffer.allocUnsafe(HEADER_BYTES + length);
  frame.writeUInt32LE(length, 0);
  frame[4] = type.charCodeAt(0);
  frame.write(payload, HEADER_BYTES, 'utf8');
  return frame;
}

/** The sandbox process's write: blocking; throws (EPIPE) when the host is gone. */
export function writeFrame(fd, type, payload) {
  const frame = encodeFrame(type, payload);
  let written = 0;
  while (written < frame.length) written += writeSync(fd, frame, written);
}

/** The sandbox process's read: blocks until a whole frame is in; undefined at end of file. */
export function readFrame(fd) {
  const header = Buffer.allocUnsafe(HEADER_BYTES);
  if (!readInto(fd, header)) return undefined;
  const payload = Buffer.allocUnsafe(header.readUInt32LE(0));
  if (!readInto(fd, payload)) return undefined;
  return { type: String.fromCharCode(header[4]), payload: payload.toString('utf8') };
}

/** Fills `buffer`; false at end of file. */
function readInto(fd, buffer) {
  let filled = 0;
  while (filled < buffer.length) {
    let n;
    try {
      n = readSync(fd, buffer, filled, buffer.length - filled, null);
    } catch (error) {
      if (error.code === 'EINTR') continue;
      if (error.code === 'EOF' || error.code === 'ECONNRESET') return false;
      throw error;
    }
    if (n === 0) return false;
    filled += n;
  }
  return true;
}

/**
 * Joins the JSON texts of a batch. JSON.stringify never writes a raw line feed (one inside a
 * string is escaped), so no quoting is needed: re-encoding the texts as a JSON array of strings
 * escaped every quote in them, and cost the host a fifth of a simple task's run.
 */
export const BATCH_SEPARATOR = '\n';
