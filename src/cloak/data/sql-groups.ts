// Runs a compiled sql task and yields, user by user, the distinct groups that user's rows fall in.
import type Database from 'better-sqlite3';
import { readInSnapshot } from './snapshot-reader.ts';
import type { SqlTaskQuery } from '../sql-task/sql-task-model.ts';
import { LookupTables } from './lookup-tables.ts';
import { compileSqlTask, type SqlScope } from './sql-compile.ts';
import { SQLITE_FLAVOR, type SqlFlavor } from './sql-dialect.ts';
import {
  GroupCollector,
  groupsByUser,
  groupsOfUsers,
  withRowsFallback,
  type GroupLimits,
  type GroupShape,
  type SqlUserGroups,
} from './group-collector.mjs';
import { TableCatalogue } from './table-catalogue.ts';

export { groupsByUser, groupsOfUsers, withRowsFallback };
export type { GroupLimits, SqlUserGroups };

/** Users per batch of CloakDataStore.streamSqlGroups. */
export const SQL_GROUP_BATCH = 1024;

/** Users in batches of SQL_GROUP_BATCH (the last one shorter), in their order. */
export function* inBatches(users: Iterable<SqlUserGroups>): Generator<SqlUserGroups[]> {
  let batch: SqlUserGroups[] = [];
  for (const user of users) {
    batch.push(user);
    if (batch.length < SQL_GROUP_BATCH) continue;
    yield batch;
    batch = [];
  }
  if (batch.length > 0) yield batch;
}

/**
 * Batches of users' groups from pages of rows of one (user, group) each (PostgreSQL's cursor
 * pages): each page is grouped in one synchronous loop, so the asynchronous step is paid per page
 * and per batch, never per row or per user.
 */
export async function* groupBatchesOfPages(
  pages: AsyncIterable<unknown[][]>,
  compiled: GroupShape,
  limits: GroupLimits,
): AsyncGenerator<SqlUserGroups[], void, undefined> {
  const grouper = new GroupCollector(compiled, limits);
  let batch: SqlUserGroups[] = [];
  for await (const page of pages) {
    for (const row of page) {
      const done = grouper.push(row);
      if (done === undefined) continue;
      batch.push(done);
      if (batch.length < SQL_GROUP_BATCH) continue;
      yield batch;
      batch = [];
    }
  }
  const last = grouper.finish();
  if (last) batch.push(last);
  if (batch.length > 0) yield batch;
}

/** The organisation's tables and lookup tables as the compiler may see them, on `db`. */
export function sqlScope(db: Database.Database, orgId: string): SqlScope {
  const catalogue = new TableCatalogue(db);
  const lookups = new LookupTables(db);
  return {
    table: (name) => catalogue.find(orgId, name),
    tableNames: () => catalogue.list(orgId).map((t) => t.name),
    lookupId: (name) => lookups.idOf(orgId, name),
    lookupNames: () => lookups.names(orgId),
  };
}

/**
 * Reads from one snapshot (snapshot-reader.ts), as the prefetch stream does: the query is compiled
 * again inside it, against the catalogue as it is there, so a table altered meanwhile cannot make
 * the SQL and the catalogue disagree.
 */
export function streamSqlGroups(
  main: Database.Database,
  orgId: string,
  query: SqlTaskQuery,
  limits: GroupLimits,
  userIds?: readonly string[],
): Generator<SqlUserGroups, void, undefined> {
  return readInSnapshot(main, (reader, rows) => {
    const scope = sqlScope(reader, orgId);
    const compiled = compileSqlTask(query, scope, userIds);
    if (compiled.rows === 'group') {
      return groupsByUser(rows(compiled.sql, compiled.params), compiled, limits);
    }
    return withRowsFallback(
      () => {
        const read = rows(compiled.sql, compiled.params) as Iterable<[string, string]>;
        return groupsOfUsers(read, compiled, limits);
      },
      () => {
        const grouped = compileSqlTask(query, scope, userIds, GROUP_ROWS_FLAVOR);
        return groupsByUser(rows(grouped.sql, grouped.params), grouped, limits);
      },
    );
  });
}

/** Rows of one (user, group) each: where a user's groups are too big for one JSON text. */
export const GROUP_ROWS_FLAVOR: SqlFlavor = { ...SQLITE_FLAVOR, groupsAsJson: false };
