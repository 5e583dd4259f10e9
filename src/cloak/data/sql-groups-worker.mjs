// A worker thread that reads a compiled sql task's rows from cloak.db and hands back each user's distinct groups, a batch at a time.
import Database from 'better-sqlite3';
import { parentPort, workerData } from 'node:worker_threads';
import { groupsByUser, groupsOfUsers, withRowsFallback } from './group-collector.mjs';

/*
 * Why a thread: stepping SQLite through a million rows and turning them into per-user groups took
 * about as long as everything the run does with those groups afterwards (user keys, the budget,
 * the aggregate), and both ran one after the other on the event loop. Here the store's half runs
 * beside the other. The thread gets only what the main thread compiled (SQL text, parameters, how
 * to format the cells), opens its own read-only connection, and sends back what the in-thread
 * reader would yield: user ids and group values, no row.
 *
 * Its snapshot is its own (WAL: one per connection), so it first checks that the catalogue there
 * (the organisation's tables, their columns and versions, its lookup tables) is the one the SQL
 * was compiled against; if a table was altered in between it reads nothing and says "stale".
 *
 * Flow control: at most `credits` batches wait unread; the thread blocks on a shared counter that
 * the main thread raises as it takes each batch, so memory stays bounded however fast SQLite is.
 */

const { file, compiled, fallback, digest, limits, batchSize, credits } = workerData;
const available = new Int32Array(credits);

function rowsOf(db, { sql, params }) {
  return db
    .prepare(sql)
    .raw(true)
    .iterate(...params);
}

function users(db) {
  if (compiled.rows === 'group') return groupsByUser(rowsOf(db, compiled), compiled, limits);
  return withRowsFallback(
    () => groupsOfUsers(rowsOf(db, compiled), compiled, limits),
    () => groupsByUser(rowsOf(db, fallback), fallback, limits),
  );
}

/**
 * Users' outcomes, each distinct one sent once: most users share their groups with many others,
 * and a copy of every user's groups cost the main thread more (the copy, then its garbage) than
 * the groups themselves. A batch carries its users' ids, an outcome id per user, and the outcomes
 * it uses for the first time; past MAX_OUTCOMES the ids start over (the main thread's table is
 * overwritten in the same order).
 */
const MAX_OUTCOMES = 65_536;
const outcomeIds = new Map();
let defined = [];

function outcomeId(user) {
  const key = user.ok ? `+${user.properties.map((p) => p[1]).join('\u0000')}` : `-${user.error}`;
  let id = outcomeIds.get(key);
  if (id === undefined) {
    if (outcomeIds.size >= MAX_OUTCOMES) outcomeIds.clear();
    id = outcomeIds.size;
    outcomeIds.set(key, id);
    const { userId: _, ...outcome } = user;
    defined.push([id, outcome]);
  }
  return id;
}

function send(users) {
  for (let left = Atomics.load(available, 0); left <= 0; left = Atomics.load(available, 0)) {
    Atomics.wait(available, 0, left);
  }
  Atomics.sub(available, 0, 1);
  const userIds = users.map((u) => u.userId);
  const outcomes = Int32Array.from(users, outcomeId);
  parentPort.postMessage({ type: 'batch', userIds, outcomes, defined }, [outcomes.buffer]);
  defined = [];
}

const db = new Database(file, { readonly: true, fileMustExist: true });
try {
  db.pragma('busy_timeout = 5000');
  db.exec('BEGIN');
  const seen = db
    .prepare(digest.sql)
    .raw(true)
    .get(...digest.params);
  if (JSON.stringify(seen) !== digest.expected) {
    parentPort.postMessage({ type: 'stale' });
  } else {
    let batch = [];
    for (const user of users(db)) {
      batch.push(user);
      if (batch.length < batchSize) continue;
      send(batch);
      batch = [];
    }
    if (batch.length > 0) send(batch);
    parentPort.postMessage({ type: 'done' });
  }
} catch (error) {
  parentPort.postMessage({
    type: 'error',
    name: error?.name ?? 'Error',
    message: String(error?.message ?? error),
    code: error?.code,
  });
} finally {
  db.close();
}
