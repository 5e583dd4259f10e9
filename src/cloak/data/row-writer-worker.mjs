// A worker thread that stores checked rows in cloak.db (an import's batches, large uploads), on a connection of its own, while the main thread reads and checks the next ones (row-writer.ts).
import Database from 'better-sqlite3';
import { parentPort, workerData } from 'node:worker_threads';

/*
 * Why a thread: an import of a million rows spent about half its time in SQLite (the inserts and
 * each batch's commit) and the other half reading, parsing and checking the file, one after the
 * other on one thread, and a server's uploads a third of theirs. Here SQLite's half runs beside
 * the other.
 *
 * A batch arrives checked and bound (insert.ts's chunks: user id, sequence, arrival, then the
 * columns, the sequence and arrival left for here). In one IMMEDIATE transaction, as insertPayload
 * does on the main thread, it checks that each table is still the version the batch was checked
 * against, gives the rows their sequences, writes them, and records the import's position with
 * them. Batches are stored in the order they are sent. After a batch fails, later ones are not
 * stored ("skipped"), so what is stored is always a prefix of the file; after a table has changed
 * ("stale"), later ones are not stored either, and the importer stores them itself, in order,
 * checked again against the table as it is now.
 */

// An import's batches are a file's parts in order; `POST /bulk_insert` requests are not (ordered
// false): one that fails or finds its table changed stops nothing after it.
const { file, statements, ordered = true } = workerData;
const db = new Database(file, { fileMustExist: true });
// The durability and waiting of every cloak.db connection (store/sqlite.ts); WAL is the file's.
db.pragma('synchronous = FULL');
db.pragma('foreign_keys = ON');
db.pragma('busy_timeout = 5000');

/** Prepared on the first batch, inside its error handling: a missing table fails that batch. */
let prepared;
function prepare() {
  return {
    readSequence: db.prepare(statements.readSequence).pluck(),
    writeSequence: db.prepare(statements.writeSequence),
    tableVersion: db.prepare(statements.tableVersion).pluck(),
    recordPosition: db.prepare(statements.recordPosition),
  };
}
/** INSERT statements by table id and rows. */
const inserts = new Map();

class Stale extends Error {}

const store = db.transaction((batch) => {
  prepared ??= prepare();
  const { readSequence, writeSequence, tableVersion, recordPosition } = prepared;
  for (const target of batch.targets) {
    if (tableVersion.get(target.tableId, batch.orgId) !== target.version) throw new Stale();
  }
  let seq = readSequence.get();
  const arrival = Math.trunc(batch.arrival ?? Date.now());
  for (const target of batch.targets) {
    for (const chunk of target.chunks) {
      for (let at = 0; at < chunk.length; at += target.width) {
        chunk[at + 1] = seq++;
        chunk[at + 2] = arrival;
      }
      insertOf(target, chunk.length / target.width).run(chunk);
    }
  }
  writeSequence.run(seq);
  const { position } = batch;
  if (position === undefined) return;
  recordPosition.run(
    batch.importId,
    batch.orgId,
    batch.tableName,
    position.line,
    position.rows,
    position.finished ? 1 : 0,
    Date.now(),
  );
});

function insertOf(target, rows) {
  const key = `${target.tableId}:${rows}`;
  let statement = inserts.get(key);
  if (statement === undefined) {
    statement = db.prepare(target.head + Array(rows).fill(target.tuple).join(', '));
    inserts.set(key, statement);
  }
  return statement;
}

/** Set once a batch fails or finds its table changed: every later batch is answered with it. */
let stopped;

parentPort.on('message', (batch) => {
  if (stopped !== undefined) return parentPort.postMessage({ id: batch.id, type: stopped });
  try {
    store.immediate(batch);
    parentPort.postMessage({ id: batch.id, type: 'stored' });
  } catch (error) {
    if (error instanceof Stale) {
      if (ordered) stopped = 'stale';
      return parentPort.postMessage({ id: batch.id, type: 'stale' });
    }
    if (ordered) stopped = 'skipped';
    parentPort.postMessage({
      id: batch.id,
      type: 'error',
      name: error?.name ?? 'Error',
      message: String(error?.message ?? error),
      code: error?.code,
    });
  }
});
