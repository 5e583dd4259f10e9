// Large uploads written by the writer thread: the same rows, answer and sequences as written here, concurrent uploads whole, a table changed under the thread, a failure that stops nothing else.
import Database from 'better-sqlite3';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { AppError } from '../../errors/index.ts';
import { RowWriter } from './row-writer.ts';
import { INSERT_THREAD_MIN_ROWS } from './sqlite-data-store.ts';
import { openTestStore, type TestStore } from './test-support.ts';

const TABLE = {
  name: 'events',
  columns: [
    { name: 'n', type: 'integer' },
    { name: 'ok', type: 'boolean' },
    { name: 'big', type: 'bigint' },
    { name: 'label', type: 'text' },
  ],
};

let t: TestStore;
beforeEach(async () => {
  t = await openTestStore();
  await t.data.createTable('org', TABLE);
});
afterEach(() => t.close());

/** `rows` rows over `users` users, the rows of each user in order of n. */
function payload(rows: number, users = 50, from = 0) {
  const body: Record<string, { events: Array<Record<string, unknown>> }> = {};
  for (let i = from; i < from + rows; i++) {
    (body[`u${i % users}`] ??= { events: [] }).events.push({
      n: i,
      ok: i % 2 === 0,
      big: String(9007199254740000 + (i % 991)),
      label: `row ${i}`,
    });
  }
  return body;
}

/** Every stored row with its sequence, read on a connection of its own, in sequence order. */
function stored() {
  const db = new Database(t.file, { readonly: true });
  try {
    const { id } = db.prepare("SELECT id FROM data_tables WHERE name = 'events'").get() as {
      id: number;
    };
    return db
      .prepare(
        `SELECT ac_user_id AS user, ac_seq AS seq, n, ok, big, label FROM data_rows_${id} ORDER BY ac_seq`,
      )
      .all() as Array<{
      user: string;
      seq: number;
      n: number;
      ok: number;
      big: number;
      label: string;
    }>;
  } finally {
    db.close();
  }
}

describe('an upload written by the thread', () => {
  it('stores what the same upload stores when written here, with the same answer', async () => {
    const big = payload(INSERT_THREAD_MIN_ROWS + 200);
    const threads = RowWriter.started;
    expect(await t.data.insert('org', big)).toEqual({
      users: 50,
      rows: INSERT_THREAD_MIN_ROWS + 200,
    });
    const threaded = stored();
    expect(RowWriter.started).toBe(threads + 1);

    // The same payload on a fresh store, written on this thread (a synchronous core insert).
    const other = await openTestStore();
    try {
      other.store.createTable('org', TABLE);
      expect(other.store.insert('org', big)).toEqual({
        users: 50,
        rows: INSERT_THREAD_MIN_ROWS + 200,
      });
      const db = new Database(other.file, { readonly: true });
      const here = db
        .prepare(
          'SELECT ac_user_id AS user, ac_seq AS seq, n, ok, big, label FROM data_rows_1 ORDER BY ac_seq',
        )
        .all();
      db.close();
      expect(threaded).toEqual(here);
    } finally {
      other.close();
    }
    expect(threaded[0]).toEqual({
      user: 'u0',
      seq: 1,
      n: 0,
      ok: 1,
      big: 9007199254740000,
      label: 'row 0',
    });
  });

  it('stores concurrent uploads whole: each in one run of sequences, none lost', async () => {
    const uploads = Array.from({ length: 6 }, (_, k) =>
      payload(INSERT_THREAD_MIN_ROWS, 40, k * INSERT_THREAD_MIN_ROWS),
    );
    const answers = await Promise.all(uploads.map((body) => t.data.insert('org', body)));
    expect(answers.every((a) => a.rows === INSERT_THREAD_MIN_ROWS)).toBe(true);
    const rows = stored();
    expect(rows).toHaveLength(6 * INSERT_THREAD_MIN_ROWS);
    expect(new Set(rows.map((r) => r.seq)).size).toBe(rows.length);
    // Each upload's rows have consecutive sequences: one transaction each, never interleaved.
    for (let k = 0; k < 6; k++) {
      const seqs = rows
        .filter((r) => Math.floor(r.n / INSERT_THREAD_MIN_ROWS) === k)
        .map((r) => r.seq);
      expect(Math.max(...seqs) - Math.min(...seqs)).toBe(INSERT_THREAD_MIN_ROWS - 1);
    }
  });

  it('a column dropped between the check and the write: refused as if written here, nothing stored', async () => {
    // The first upload holds the write lock while the thread writes it; the alteration waits
    // behind it, and the second upload, checked at once against the table before the
    // alteration, waits behind that: the thread then finds the table changed.
    const first = t.data.insert('org', payload(INSERT_THREAD_MIN_ROWS));
    const altered = t.data.alterTable('org', 'events', { drop: ['label'] });
    const second = t.data
      .insert('org', payload(INSERT_THREAD_MIN_ROWS, 50, 10_000))
      .catch((e: unknown) => e);
    await first;
    await altered;
    const error = await second;
    expect(error).toBeInstanceOf(AppError);
    expect((error as AppError).code).toBe('UNKNOWN_COLUMN');
    expect(await t.data.rowCount('org', 'events')).toBe(INSERT_THREAD_MIN_ROWS);
  });

  it('an upload the thread cannot store fails alone: the next one is stored', async () => {
    const { id } = t.db.prepare("SELECT id FROM data_tables WHERE name = 'events'").get() as {
      id: number;
    };
    t.db.exec(`CREATE TRIGGER refuse_n_5 BEFORE INSERT ON data_rows_${id}
                 WHEN NEW.n = 5 BEGIN SELECT RAISE(ABORT, 'n 5 refused'); END`);
    const error = await t.data
      .insert('org', payload(INSERT_THREAD_MIN_ROWS))
      .catch((e: unknown) => e);
    expect(String((error as Error).message)).toContain('n 5 refused');
    expect(await t.data.rowCount('org', 'events')).toBe(0);
    const next = payload(INSERT_THREAD_MIN_ROWS, 50, 10_000);
    expect(await t.data.insert('org', next)).toMatchObject({ rows: INSERT_THREAD_MIN_ROWS });
    expect(await t.data.rowCount('org', 'events')).toBe(INSERT_THREAD_MIN_ROWS);
  });
});

describe('a writer thread that has gone', () => {
  it('says so and refuses to write, so that the store starts another', async () => {
    const writer = new RowWriter(t.file, false);
    expect(writer.broken).toBe(false);
    await writer.close();
    expect(writer.broken).toBe(true);
    const checked = t.store.checkInsert('org', payload(10));
    await expect(writer.write(checked, { orgId: 'org' })).rejects.toThrow(/writer thread/);
    expect(await t.data.rowCount('org', 'events')).toBe(0);
  });
});
