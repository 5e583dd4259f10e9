// The wire between the host and its sandbox process: length-prefixed frames over blocking file descriptors.
import { readSync, writeSync } from 'node:fs';
import { availableParallelism } from 'node:os';
import { performance } from 'node:perf_hooks';

/**
 * Frame types, one ASCII letter each. The host only ever waits for the sandbox's answer and the
 * sandbox for the host's, so blocking reads and writes are all the protocol needs.
 */
export const FRAME = Object.freeze({
  init: 'I', // host -> sandbox: the task and its limits (JSON)
  ready: 'K', // sandbox -> host: compiled, ready for users
  compileError: 'C', // sandbox -> host: SES could not compile the task (message)
  fatal: 'F', // sandbox -> host: the sandbox could not start (message)
  run: 'R', // host -> sandbox: one user's input (JSON)
  lookup: 'L', // sandbox -> host: [table, key] during a run
  lookupAnswer: 'V', // host -> sandbox: {"value": string|null} or {"error": true}
  done: 'D', // sandbox -> host: that user's outcome (JSON)
  runBatch: 'B', // host -> sandbox: several users' input JSON texts, one per line (BATCH_SEPARATOR)
  batchDone: 'E', // sandbox -> host: their outcome JSON texts, in order, one per line
});

/** The line the sandbox's watchdog writes to stderr just before it kills a run that hung. */
export const WATCHDOG_MARKER = 'opencloak-sandbox-watchdog: the run outlived its budget';

// A frame is a 4-byte little-endian payload length, the 1-byte type, then the UTF-8 payload.
const HEADER_BYTES = 5;

/** Writes one frame with a single buffer; throws (EPIPE) when the reader is gone. */
export function writeFrame(fd, type, payload) {
  const length = Buffer.byteLength(payload, 'utf8');
  const frame = Buffer.allocUnsafe(HEADER_BYTES + length);
  frame.writeUInt32LE(length, 0);
  frame[4] = type.charCodeAt(0);
  frame.write(payload, HEADER_BYTES, 'utf8');
  let written = 0;
  while (written < frame.length) written += writeSync(fd, frame, written);
}

/**
 * How long a reader polls before it sleeps in a blocking read. Waking a sleeping process on
 * another core costs ~40 µs on a virtual machine, several times a trivial task's whole run;
 * polling briefly keeps the hand-over at a few µs. Polling only pays with a second core.
 */
const POLL_MICROSECONDS = availableParallelism() > 1 ? 200 : 0;

/**
 * Reads one frame; undefined when the writer has gone away (end of file, even mid-frame).
 * `pollFd` is a non-blocking descriptor on the same pipe, polled first (see POLL_MICROSECONDS).
 */
export function readFrame(fd, pollFd) {
  const header = Buffer.allocUnsafe(HEADER_BYTES);
  const polled = pollFd === undefined ? 0 : poll(pollFd, header);
  if (polled < 0) return undefined;
  if (!readInto(fd, header, polled)) return undefined;
  const payload = Buffer.allocUnsafe(header.readUInt32LE(0));
  if (!readInto(fd, payload, 0)) return undefined;
  return { type: String.fromCharCode(header[4]), payload: payload.toString('utf8') };
}

/** Bytes read into `buffer` while polling: 0 when nothing came in time, -1 at end of file. */
function poll(fd, buffer) {
  if (POLL_MICROSECONDS === 0) return 0;
  const deadline = performance.now() + POLL_MICROSECONDS / 1000;
  do {
    try {
      const n = readSync(fd, buffer, 0, buffer.length, null);
      return n === 0 ? -1 : n;
    } catch (error) {
      if (error.code !== 'EAGAIN') throw error;
    }
  } while (performance.now() < deadline);
  return 0;
}

/** Fills `buffer` from `filled` on; false at end of file. */
function readInto(fd, buffer, filled) {
  const size = buffer.length;
  while (filled < size) {
    let n;
    try {
      n = readSync(fd, buffer, filled, size - filled, null);
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
