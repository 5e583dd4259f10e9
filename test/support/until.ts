// Polls a read until a condition holds: for background work (runs, schedules) a test waits on.

/** Reads every 50 ms until `done` says yes, for at most 20 s; returns the value that passed. */
export async function until<T>(read: () => Promise<T>, done: (value: T) => boolean): Promise<T> {
  for (let i = 0; i < 400; i++) {
    const value = await read();
    if (done(value)) return value;
    await new Promise((r) => setTimeout(r, 50));
  }
  throw new Error('condition not reached in 20 s');
}
