// Polls a read until a condition holds: for background work (runs, schedules) a test waits on.

/**
 * How long a condition may take before the test fails: a guard against hanging, not a
 * measurement, so as long as the test's own timeout (60 s) allows; a busy machine (and the
 * release schedule's slots, which grow when runs do not fit) makes background work slow.
 */
const GUARD_MS = 50_000;
const POLL_MS = 50;

/** Reads every 50 ms until `done` says yes; returns the value that passed. */
export async function until<T>(read: () => Promise<T>, done: (value: T) => boolean): Promise<T> {
  for (const started = Date.now(); Date.now() - started < GUARD_MS;) {
    const value = await read();
    if (done(value)) return value;
    await new Promise((r) => setTimeout(r, POLL_MS));
  }
  throw new Error(`condition not reached in ${GUARD_MS / 1000} s`);
}
