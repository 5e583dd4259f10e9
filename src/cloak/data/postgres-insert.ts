// All-or-nothing ingestion on PostgreSQL: rows checked as on SQLite, then written with unnest() arrays.
import type { SqlExecutor } from '../../store/index.ts';
import { arrivalTime, checkPayload, type InsertCounts, type TargetTable } from './insert.ts';
import { quoteIdentifier } from './names.ts';
import { PostgresCatalogue, pgColumnType, unknownTableError } from './postgres-catalogue.ts';
import { toArray } from './postgres-lookups.ts';
import type { SqlValue } from './row-validation.ts';
import { physicalTableName, type StoredTable } from './table-catalogue.ts';

/**
 * Taken shared by every transaction that draws arrival sequences, exclusively by `watermark`.
 *
 * Why a SEQUENCE and this lock instead of SQLite's one `data_sequence` row: a row that every
 * upload updates serializes all uploads on its row lock until each commits. `nextval()` never
 * waits, and shared advisory locks do not conflict with each other, so uploads run in parallel.
 *
 * What the code relies on, and why it still holds:
 * - *Unique, increasing within a payload*: each row's sequence is drawn from the SEQUENCE, sorted
 *   and handed out in payload order, so a user's rows keep their arrival order in every table
 *   (user_rows keeps the last N by it; streams order by (user, sequence)).
 * - *Snapshots* (streams, sql groups) read one REPEATABLE READ snapshot: they never depended on
 *   sequences being dense or committed in order.
 * - *Exactly-once import/resume* stores each batch with its position in one transaction
 *   (import-progress.ts): independent of the sequence.
 * - *Streaming passes* read arrivals in [since, next) and continue from `next`. On SQLite the
 *   write lock made every sequence below `next` committed. Here a transaction may hold sequence
 *   10 uncommitted while 11 commits; a pass that stopped at 12 would skip row 10 for ever. So the
 *   watermark takes this lock exclusively: it waits until every transaction that drew sequences
 *   has ended, and only then reads the SEQUENCE. Every row below it is committed (or rolled back
 *   for good); later uploads draw higher sequences. Uploads wait only for that instant.
 */
export const SEQUENCE_LOCK = 0x0c10da7a;

/** Rows per INSERT: the arrays of one statement stay well inside a protocol message. */
const ROWS_PER_STATEMENT = 5_000;

export async function insertPayloadPostgres(
  tx: SqlExecutor,
  orgId: string,
  payload: unknown,
  now: number,
): Promise<InsertCounts> {
  const arrival = arrivalTime(now);
  // FOR SHARE: an alter or drop of these tables waits until this insert has committed, as the
  // SQLite write lock makes it.
  const tables = new Map(
    (await new PostgresCatalogue(tx).list(orgId, 'FOR SHARE')).map((t) => [t.name, t]),
  );
  const require = (name: string): StoredTable => {
    const table = tables.get(name);
    if (!table) throw unknownTableError(name, [...tables.values()]);
    return table;
  };
  // Checked with sequences 0..n-1 first: a bad payload draws nothing and writes nothing.
  const checked = checkPayload(require, payload, 0, arrival);
  if (checked.rows === 0) return { users: checked.users, rows: 0 };
  await tx.get('SELECT pg_advisory_xact_lock_shared(?)', [SEQUENCE_LOCK]);
  const drawn = await tx.all<{ s: number }>(
    "SELECT nextval('data_sequence') AS s FROM generate_series(1, CAST(? AS integer))",
    [checked.rows],
  );
  const sequences = drawn.map((r) => Number(r.s)).sort((a, b) => a - b);
  for (const into of checked.targets) await writeRows(tx, into, sequences);
  return { users: checked.users, rows: checked.rows };
}

/** The target's rows, column by column, one unnest() INSERT per ROWS_PER_STATEMENT rows. */
async function writeRows(
  tx: SqlExecutor,
  into: TargetTable,
  sequences: readonly number[],
): Promise<void> {
  const { table } = into;
  const width = 3 + table.columns.length;
  const names = table.columns.map((c) => `, ${quoteIdentifier(c.name)}`).join('');
  const types = [
    'text',
    'bigint',
    'bigint',
    ...table.columns.map((c) => arrayType(pgColumnType(c))),
  ];
  const sql =
    `INSERT INTO ${quoteIdentifier(physicalTableName(table.id))} (ac_user_id, ac_seq, ac_arrival${names}) ` +
    `SELECT * FROM unnest(${types.map((t) => `CAST(? AS ${t}[])`).join(', ')})`;
  let columns = types.map((): SqlValue[] => []);
  let count = 0;
  const flush = async () => {
    if (count === 0) return;
    await tx.run(
      sql,
      columns.map((c) => toArray(c)),
    );
    columns = types.map((): SqlValue[] => []);
    count = 0;
  };
  for (const chunk of into.chunks) {
    for (let base = 0; base < chunk.length; base += width) {
      for (let i = 0; i < width; i++) {
        const value = chunk[base + i] as SqlValue;
        // The offset checkPayload gave becomes the drawn sequence of the same rank.
        columns[i]!.push(i === 1 ? (sequences[value as number] as number) : value);
      }
      if (++count === ROWS_PER_STATEMENT) await flush();
    }
  }
  await flush();
}

function arrayType(columnType: string): string {
  return columnType.replace(' COLLATE "C"', '');
}
