// Reads from one consistent snapshot of the PostgreSQL data store, on a connection of its own, in pages.
import pg from 'pg';
import {
  numberPlaceholders,
  POSTGRES_TYPES,
  type SqlExecutor,
  type SqlValue,
} from '../../store/index.ts';

/** Rows per FETCH: memory holds one page, and a page costs one round trip. */
const ROWS_PER_PAGE = 2_000;

/** Runs a query in the snapshot and pages through its rows as arrays. */
export type PagedRowReader = (sql: string, params: readonly SqlValue[]) => AsyncIterable<unknown[]>;

/**
 * The same a page (up to ROWS_PER_PAGE rows) at a time: a consumer that handles each page in one
 * synchronous loop pays the asynchronous step per page, not per row (a sql task's 360,000 rows).
 */
export type PageReader = (sql: string, params: readonly SqlValue[]) => AsyncIterable<unknown[][]>;

/**
 * As on SQLite (snapshot-reader.ts): the catalogue and the rows come from one REPEATABLE READ
 * snapshot, so SQL built from the catalogue there matches the rows read, whatever uploads and
 * alterations happen meanwhile. A cursor pages through the rows in the query's order (by user),
 * so memory stays one page however many users there are. The connection is the stream's own
 * (not the pool's), held until the stream ends or its consumer stops early.
 */
export async function* readInPostgresSnapshot<T>(
  url: string,
  read: (tx: SqlExecutor, rows: PagedRowReader, pages: PageReader) => AsyncIterable<T>,
): AsyncGenerator<T, void, undefined> {
  const client = new pg.Client({ connectionString: url, types: POSTGRES_TYPES });
  // The server ending the session while the consumer works between two pages (a PostgreSQL
  // restart) is an 'error' event, which without a listener ends the process; the next FETCH
  // rejects with the error instead, and the run fails with it.
  client.on('error', () => undefined);
  await client.connect();
  let cursors = 0;
  const query = async <R>(sql: string, params: readonly SqlValue[] = []) =>
    (await client.query(numberPlaceholders(sql), params as unknown[])).rows as R[];
  const tx: SqlExecutor = {
    dialect: 'postgres',
    all: query,
    get: async <R>(sql: string, params?: readonly SqlValue[]) => (await query<R>(sql, params))[0],
    run: async (sql, params) => ({
      changes:
        (await client.query(numberPlaceholders(sql), (params ?? []) as unknown[])).rowCount ?? 0,
    }),
    exec: async (sql) => {
      await client.query(sql);
    },
  };
  async function* pages(sql: string, params: readonly SqlValue[]): AsyncGenerator<unknown[][]> {
    const name = `data_stream_${++cursors}`;
    await client.query(
      `DECLARE ${name} NO SCROLL CURSOR FOR ${numberPlaceholders(sql)}`,
      params as unknown[],
    );
    const fetch = () =>
      client.query<unknown[]>({ text: `FETCH ${ROWS_PER_PAGE} FROM ${name}`, rowMode: 'array' });
    // The next page is asked for before this one is handed over: PostgreSQL computes it while
    // the consumer works through this one.
    let next = fetch();
    let pending = true;
    try {
      for (;;) {
        const page = await next;
        pending = false;
        if (page.rows.length < ROWS_PER_PAGE) {
          if (page.rows.length > 0) yield page.rows;
          return;
        }
        next = fetch();
        pending = true;
        yield page.rows;
      }
    } finally {
      // A consumer that stopped early leaves a page asked for; the connection's end rejects it.
      if (pending) next.catch(() => undefined);
    }
  }
  async function* rows(sql: string, params: readonly SqlValue[]): AsyncGenerator<unknown[]> {
    for await (const page of pages(sql, params)) yield* page;
  }
  try {
    await client.query('BEGIN ISOLATION LEVEL REPEATABLE READ READ ONLY');
    yield* read(tx, rows, pages);
    await client.query('COMMIT');
  } finally {
    // end() also ends an open transaction: a consumer that stopped early leaves nothing behind.
    await client.end();
  }
}
