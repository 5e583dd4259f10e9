// A worker thread that reads compiled sql tasks' rows from cloak.db and hands back each user's distinct groups, a batch at a time; one read after another.
import Database from 'better-sqlite3';
import { parentPort } from 'node:worker_threads';
import { groupsByUser, groupsOfUsers, withRowsFallback } from './group-collector.mjs';

/*
 * Why a thread: stepping SQLite through a million rows and turning them into per-user groups took
 * about as long as everything the run does with those groups afterwards (user keys, the budget,
 * the aggregate), and both ran one after the other on the event loop. Here the store's half runs
 * beside the other. A read gets only what the main thread compiled (SQL text, parameters, how
 * to format the cells), opens its own read-only connection, and sends back what the in-thread
 * reader would yield: user ids and group values, no row.
 *
 * Its snapshot is its own (WAL: one per connection), so it first checks that the catalogue there
 * (the organisation's tables, their columns and versions, its lookup tables) is the one the SQL
 * was compiled against; if a table was altered in between it reads nothing and says "stale".
 *
 * Flow control: at most a few batches wait unread; the thread blocks on a shared counter that
 * the main thread raises as it takes each batch, so memory stays bounded however fast SQLite is.
 *
 * The thread serves one read after another (starting one costs about 60 ms of CPU); between
 * reads it holds no connection and no data.
 */

/**
 * Users' outcomes, each distinct one sent once per read: most users share their groups with many
 * others, and a copy of every user's groups cost the main thread more (the copy, then its
 * garbage) than the groups themselves. A batch carries its users' ids, an outcome id per user,
 * and the outcomes it uses for the first time; past MAX_OUTCOMES the ids start over (the main
 * thread's table is overwritten in the same order).
 */
const MAX_OUTCOMES = 65_536;

class Outcomes {
  #ids = new Map();
  /** The same by the properties array: users with one JSON text share it (group-collector.mjs). */
  #byArray = new Map();
  defined = [];

  idOf(user) {
    const known = user.ok ? this.#byArray.get(user.properties) : undefined;
    if (known !== undefined) return known;
    const key = user.ok ? `+${user.properties.map((p) => p[1]).join('\u0000')}` : `-${user.error}`;
    let id = this.#ids.get(key);
    if (id === undefined) {
      if (this.#ids.size >= MAX_OUTCOMES) {
        this.#ids.clear();
        this.#byArray.clear();
      }
      id = this.#ids.size;
      this.#ids.set(key, id);
      const { userId: _, ...outcome } = user;
      this.defined.push([id, outcome]);
    }
    if (user.ok && Object.isFrozen(user.properties)) {
      if (this.#byArray.size >= MAX_OUTCOMES) this.#byArray.clear();
      this.#byArray.set(user.properties, id);
    }
    return id;
  }
}

function rowsOf(db, { sql, params }) {
  return db
    .prepare(sql)
    .raw(true)
    .iterate(...params);
}

function usersOf(db, { compiled, fallback, limits }) {
  if (compiled.rows === 'group') return groupsByUser(rowsOf(db, compiled), compiled, limits);
  return withRowsFallback(
    () => groupsOfUsers(rowsOf(db, compiled), compiled, limits),
    () => groupsByUser(rowsOf(db, fallback), fallback, limits),
  );
}

function read(job) {
  const available = new Int32Array(job.credits);
  const outcomes = new Outcomes();
  const send = (users) => {
    for (let left = Atomics.load(available, 0); left <= 0; left = Atomics.load(available, 0)) {
      Atomics.wait(available, 0, left);
    }
    Atomics.sub(available, 0, 1);
    const userIds = users.map((u) => u.userId);
    const ids = Int32Array.from(users, (u) => outcomes.idOf(u));
    const message = { type: 'batch', userIds, outcomes: ids, defined: outcomes.defined };
    parentPort.postMessage(message, [ids.buffer]);
    outcomes.defined = [];
  };
  const db = new Database(job.file, { readonly: true, fileMustExist: true });
  try {
    db.pragma('busy_timeout = 5000');
    db.exec('BEGIN');
    const { digest } = job;
    const seen = db
      .prepare(digest.sql)
      .raw(true)
      .get(...digest.params);
    if (JSON.stringify(seen) !== digest.expected) return parentPort.postMessage({ type: 'stale' });
    let batch = [];
    for (const user of usersOf(db, job)) {
      batch.push(user);
      if (batch.length < job.batchSize) continue;
      send(batch);
      batch = [];
    }
    if (batch.length > 0) send(batch);
    parentPort.postMessage({ type: 'done' });
  } finally {
    db.close();
  }
}

parentPort.on('message', (job) => {
  try {
    read(job);
  } catch (error) {
    parentPort.postMessage({
      type: 'error',
      name: error?.name ?? 'Error',
      message: String(error?.message ?? error),
      code: error?.code,
    });
  }
});
