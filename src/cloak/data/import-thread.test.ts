// A file import's writer thread: batches stored in file order, a table altered or dropped mid-import, a failure in the thread stores nothing after it.
import Database from 'better-sqlite3';
import { Readable } from 'node:stream';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { AppError } from '../../errors/index.ts';
import type { ImportOptions } from './file-import.ts';
import { RowWriter } from './row-writer.ts';
import { openTestStore, type TestStore } from './test-support.ts';

let t: TestStore;
beforeEach(async () => {
  t = await openTestStore();
  t.store.createTable('org', {
    name: 'visits',
    columns: [
      { name: 'line', type: 'integer' },
      { name: 'ok', type: 'boolean' },
      { name: 'big', type: 'bigint' },
    ],
  });
});
afterEach(() => t.close());

/** Users take turns, so that each user's rows span many batches. */
const LINES = 60;
const csv = () =>
  [
    'user_id,line,ok,big',
    ...Array.from(
      { length: LINES },
      (_, i) => `u${i % 7},${i + 2},${i % 2 === 0},900719925474${String(i).padStart(4, '0')}`,
    ),
  ].join('\n');

const run = (options: Partial<ImportOptions> = {}) =>
  t.store.importFile('org', Readable.from([csv()]), {
    format: 'csv',
    table: 'visits',
    userColumn: 'user_id',
    source: 'visits.csv',
    batchRows: 4,
    ...options,
  });

/** Stored rows in sequence order, read on a connection of their own. */
function storedBySequence(): Array<{ user: string; line: number; ok: number; big: number }> {
  const db = new Database(t.file, { readonly: true });
  try {
    const { id } = db.prepare("SELECT id FROM data_tables WHERE name = 'visits'").get() as {
      id: number;
    };
    return db
      .prepare(`SELECT ac_user_id AS user, line, ok, big FROM data_rows_${id} ORDER BY ac_seq`)
      .all() as Array<{ user: string; line: number; ok: number; big: number }>;
  } finally {
    db.close();
  }
}

describe('file import through the writer thread', () => {
  it('stores every batch in file order: sequences follow the lines, the position is the last line', async () => {
    const before = RowWriter.started;
    expect(await run()).toEqual({ rows: LINES, users: 7, lines: LINES + 1 });
    expect(RowWriter.started).toBe(before + 1);
    const rows = storedBySequence();
    expect(rows.map((r) => r.line)).toEqual(Array.from({ length: LINES }, (_, i) => i + 2));
    // Bound as the main thread binds them: booleans as 0 and 1, bigint digits as numbers.
    expect(rows[0]).toEqual({ user: 'u0', line: 2, ok: 1, big: 9007199254740000 });
    expect(rows[1]).toMatchObject({ user: 'u1', ok: 0, big: 9007199254740001 });
    // The sequences were drawn from the installation's counter, which moved past them.
    expect(t.db.prepare('SELECT next_seq FROM data_sequence').pluck().get()).toBe(LINES + 1);
    expect(t.db.prepare('SELECT line, rows, finished FROM data_import_progress').get()).toEqual({
      line: LINES + 1,
      rows: LINES,
      finished: 1,
    });
  });

  it('one batch starts no thread', async () => {
    const before = RowWriter.started;
    await run({ batchRows: 1000 });
    expect(RowWriter.started).toBe(before);
    expect(storedBySequence()).toHaveLength(LINES);
  });

  it('a table altered while the import runs: the rest is checked again and stored, in order', async () => {
    let altered = false;
    const result = await run({
      onProgress: () => {
        if (altered) return;
        altered = true;
        t.store.alterTable('org', 'visits', { add: [{ name: 'extra', type: 'text' }] });
      },
    });
    expect(result.rows).toBe(LINES);
    expect(storedBySequence().map((r) => r.line)).toEqual(
      Array.from({ length: LINES }, (_, i) => i + 2),
    );
  });

  it('a table dropped while the import runs: the import stops with the reason, naming what was stored', async () => {
    const progress: number[] = [];
    let dropped = false;
    const error = await run({
      onProgress: ({ rows }) => {
        progress.push(rows);
        if (dropped) return;
        dropped = true;
        t.store.dropTable('org', 'visits');
      },
    }).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(AppError);
    expect((error as AppError).code).toBe('IMPORT_INVALID_LINE');
    expect((error as AppError).message).toContain('There is no table named "visits"');
    expect((error as AppError).message).toContain(`(${progress.at(-1)} rows before it were)`);
  });

  it('a batch that fails in the thread: nothing after it is stored, what is stored is a prefix of the file', async () => {
    let broken = false;
    const progress: number[] = [];
    const error = await run({
      onProgress: ({ rows }) => {
        progress.push(rows);
        if (broken) return;
        broken = true;
        // The thread records each batch's position with it: without the table, every later
        // batch's transaction fails.
        t.db.exec('DROP TABLE data_import_progress');
      },
    }).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(Error);
    expect(String((error as Error).message)).toContain('data_import_progress');
    const lines = storedBySequence().map((r) => r.line);
    expect(lines).toEqual(Array.from({ length: lines.length }, (_, i) => i + 2));
    expect(lines.length).toBe(progress.at(-1));
    expect(lines.length).toBeLessThan(LINES);
  });
});

describe('a batch the thread cannot store', () => {
  it('stops the import there: no later batch is stored, though it could be', async () => {
    const { id } = t.db.prepare("SELECT id FROM data_tables WHERE name = 'visits'").get() as {
      id: number;
    };
    // Only the third batch (lines 10 to 13) fails; every batch after it would store.
    t.db.exec(`CREATE TRIGGER refuse_line_10 BEFORE INSERT ON data_rows_${id}
                 WHEN NEW.line = 10 BEGIN SELECT RAISE(ABORT, 'line 10 refused'); END`);
    const error = await run().catch((e: unknown) => e);
    expect(String((error as Error).message)).toContain('line 10 refused');
    expect(storedBySequence().map((r) => r.line)).toEqual([2, 3, 4, 5, 6, 7, 8, 9]);
  });
});
