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
    return groupByUser(rows(query.sql, query.params), specs, tables);
  });
}

/** Rows arrive ordered by (user, sequence); a user is complete when the next user's first row arrives. */
function* groupByUser(
  rows: Iterable<unknown[]>,
  specs: readonly PrefetchSpec[],
  tables: readonly StoredTable[],
): Generator<UserData, void, undefined> {
  const limits = specs.map((s) => s.user_rows);
  let current: string | undefined;
  let pending: unknown[][][] = specs.map(() => []);
  for (const raw of rows) {
    const userId = raw[1] as string;
    if (userId !== current) {
      if (current !== undefined) yield toUserData(current, pending, specs, tables);
      current = userId;
      pending = specs.map(() => []);
    }
    const index = raw[0] as number;
    const list = pending[index] as unknown[][];
    list.push(raw);
    // Only the last user_rows rows can survive, so a user with a long history never piles up.
    const limit = limits[index];
    if (limit !== undefined && list.length >= limit + TRIM_SLACK)
      list.splice(0, list.length - limit);
  }
  if (current !== undefined) yield toUserData(current, pending, specs, tables);
}

function toUserData(
  userId: string,
  pending: unknown[][][],
  specs: readonly PrefetchSpec[],
  tables: readonly StoredTable[],
): UserData {
  const result: Record<string, Row[]> = {};
  specs.forEach((spec, index) => {
    const raws = pending[index] as unknown[][];
    const kept =
      spec.user_rows !== undefined && raws.length > spec.user_rows
        ? raws.slice(-spec.user_rows)
        : raws;
    const columns = (tables[index] as StoredTable).columns;
    result[spec.table] = kept.map((raw) => {
      const row: Row = {};
      columns.forEach((column, i) => {
        const value = raw[3 + i] as string | number | null;
        row[column.name] = column.type === 'boolean' && value !== null ? value === 1 : value;
      });
      return row;
    });
  });
  return { userId, tables: result };
}
