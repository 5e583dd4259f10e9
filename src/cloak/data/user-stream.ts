// Streams the prefetched rows user by user, in bounded memory, from a read-only snapshot.
import type Database from 'better-sqlite3';
import type { PrefetchSpec } from '../../shared/index.ts';
import { buildStreamQuery } from './prefetch-sql.ts';
import { readInSnapshot } from './snapshot-reader.ts';
import { validatePrefetch } from './prefetch-validation.ts';
import { TableCatalogue, type StoredTable } from './table-catalogue.ts';

export type CellValue = string | number | boolean | null;
export type Row = Record<string, CellValue>;

export interface UserData {
  userId: string;
  /** Every prefetched table, an empty list where the user has no selected row in it. */
  tables: Record<string, Row[]>;
}

/** Past this many rows beyond a table's user_rows, the older rows of the current user are dropped. */
const TRIM_SLACK = 64;

/**
 * Reads from one snapshot (snapshot-reader.ts). The prefetch is validated again inside it, since
 * the catalogue may have changed since the caller validated it, and since the SQL is built from
 * its result.
 */
export function streamUserData(
  main: Database.Database,
  orgId: string,
  prefetch: readonly PrefetchSpec[],
  now: number,
  userIds?: readonly string[],
): Generator<UserData, void, undefined> {
  return readInSnapshot(main, (reader, rows) => {
    const catalogue = new TableCatalogue(reader);
    const specs = validatePrefetch(prefetch, {
      find: (name) => catalogue.find(orgId, name),
      unknown: (name) => catalogue.unknownTable(orgId, name),
    });
    const tables = specs.map((spec) => catalogue.find(orgId, spec.table) as StoredTable);
    const query = buildStreamQuery(specs, tables, now, userIds);
    return groupByUser(rows(query.sql, query.params), specs, tables, query.offsets);
  });
}

/** Rows arrive ordered by (user, sequence); a user is complete when the next user's first row arrives. */
export function* groupByUser(
  rows: Iterable<unknown[]>,
  specs: readonly PrefetchSpec[],
  tables: readonly StoredTable[],
  offsets: readonly number[],
): Generator<UserData, void, undefined> {
  const grouper = new UserGrouper(specs, tables, offsets);
  for (const raw of rows) {
    const done = grouper.push(raw);
    if (done) yield done;
  }
  const last = grouper.finish();
  if (last) yield last;
}

/** The same over rows that arrive in pages (PostgreSQL's cursor). */
export async function* groupByUserAsync(
  rows: AsyncIterable<unknown[]>,
  specs: readonly PrefetchSpec[],
  tables: readonly StoredTable[],
  offsets: readonly number[],
): AsyncGenerator<UserData, void, undefined> {
  const grouper = new UserGrouper(specs, tables, offsets);
  for await (const raw of rows) {
    const done = grouper.push(raw);
    if (done) yield done;
  }
  const last = grouper.finish();
  if (last) yield last;
}

/** Collects the current user's rows; `push` hands back the previous user once a new one starts. */
class UserGrouper {
  private readonly limits: Array<number | undefined>;
  private current: string | undefined;
  private pending: unknown[][][];

  constructor(
    private readonly specs: readonly PrefetchSpec[],
    private readonly tables: readonly StoredTable[],
    private readonly offsets: readonly number[],
  ) {
    this.limits = specs.map((s) => s.user_rows);
    this.pending = specs.map(() => []);
  }

  push(raw: unknown[]): UserData | undefined {
    const userId = raw[1] as string;
    let done: UserData | undefined;
    if (userId !== this.current) {
      done = this.finish();
      this.current = userId;
    }
    const index = raw[0] as number;
    const list = this.pending[index] as unknown[][];
    list.push(raw);
    // Only the last user_rows rows can survive, so a user with a long history never piles up.
    const limit = this.limits[index];
    if (limit !== undefined && list.length >= limit + TRIM_SLACK)
      list.splice(0, list.length - limit);
    return done;
  }

  finish(): UserData | undefined {
    if (this.current === undefined) return undefined;
    const done = toUserData(this.current, this.pending, this.specs, this.tables, this.offsets);
    this.current = undefined;
    this.pending = this.specs.map(() => []);
    return done;
  }
}

function toUserData(
  userId: string,
  pending: unknown[][][],
  specs: readonly PrefetchSpec[],
  tables: readonly StoredTable[],
  offsets: readonly number[],
): UserData {
  const result: Record<string, Row[]> = {};
  specs.forEach((spec, index) => {
    const raws = pending[index] as unknown[][];
    const kept =
      spec.user_rows !== undefined && raws.length > spec.user_rows
        ? raws.slice(-spec.user_rows)
        : raws;
    const columns = (tables[index] as StoredTable).columns;
    const first = 3 + offsets[index]!;
    result[spec.table] = kept.map((raw) => {
      const row: Row = {};
      columns.forEach((column, i) => {
        const value = raw[first + i] as string | number | null;
        row[column.name] = column.type === 'boolean' && value !== null ? value === 1 : value;
      });
      return row;
    });
  });
  return { userId, tables: result };
}
