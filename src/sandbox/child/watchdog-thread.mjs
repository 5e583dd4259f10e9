// The watchdog's thread (see watchdog.mjs): ends the sandbox process when one run stays on past its budget, or when its host has died.
import { writeSync } from 'node:fs';
import { workerData } from 'node:worker_threads';
import { WATCHDOG_MARKER } from '../wire.mjs';

// state[0] counts run starts and ends, so it is odd while a run is on; state[1] stays 0 and
// only serves as something to sleep on between looks; state[2] is the current run's budget.
const { intervalMs } = workerData;
const state = new Int32Array(workerData.buffer);
let watched = -1;
let since = 0;
// A host killed with SIGKILL cannot stop its sandboxes, and one busy with a batch would not read
// the end of its socket until the batch ended (minutes of a cancelled run's work). When the host
// dies this process is given to another parent: it then ends itself.
const host = process.ppid;
for (;;) {
  Atomics.wait(state, 1, 0, intervalMs);
  if (process.ppid !== host) process.kill(process.pid, 'SIGKILL');
  const generation = Atomics.load(state, 0);
  const now = Date.now();
  if (generation % 2 === 0 || generation !== watched) {
    watched = generation;
    since = now;
  } else if (now - since > Atomics.load(state, 2)) {
    writeSync(2, `${WATCHDOG_MARKER}\n`);
    process.kill(process.pid, 'SIGKILL');
  }
}
