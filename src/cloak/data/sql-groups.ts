// Runs a compiled sql task and yields, user by user, the distinct groups that user's rows fall in.
import type Database from 'better-sqlite3';
import { readInSnapshot } from './snapshot-reader.ts';
import type { SqlTaskQuery } from '../sql-task/sql-task-model.ts';
import { LookupTables } from './lookup-tables.ts';
import {
  compileSqlTask,
  type CompiledSqlTask,
  type GroupFormat,
  type SqlScope,
} from './sql-compile.ts';
import { SQLITE_FLAVOR, type SqlFlavor } from './sql-dialect.ts';
import { TableCatalogue } from './table-catalogue.ts';

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

/** The same over users that arrive asynchronously (PostgreSQL's cursor pages). */
export async function* inBatchesAsync(
  users: AsyncIterable<SqlUserGroups>,
): AsyncGenerator<SqlUserGroups[]> {
  let batch: SqlUserGroups[] = [];
  for await (const user of users) {
    batch.push(user);
    if (batch.length < SQL_GROUP_BATCH) continue;
    yield batch;
    batch = [];
  }
  if (batch.length > 0) yield batch;
}

/** One user's groups as a task's reported properties, or the error a task would have raised. */
export type SqlUserGroups =
  | { userId: string; ok: true; properties: Array<[label: string, value: string]> }
  | { userId: string; ok: false; error: string };

/**
 * The sandbox's limits on one user's properties. A user whose groups break them is an exception
 * with report_property's own message (driver.js), exactly as that user's JavaScript run would be.
 */
export interface GroupLimits {
  maxProperties: number;
  maxTextLength: number;
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

const GROUP_ROWS_FLAVOR: SqlFlavor = { ...SQLITE_FLAVOR, groupsAsJson: false };

/**
 * A user whose groups' JSON would pass the longest string SQLite hands to JavaScript (about 512
 * MB: tens of millions of distinct values, or huge texts) fails the one-row-per-user query, where
 * rows of one (user, group) each have no such bound. Then the rest comes from those rows, in the
 * same snapshot and order, from the user after the last one given: the run ends as it always did
 * (that user most likely an exception for report_property's limits), not with a store error.
 */
export function* withRowsFallback(
  perUser: () => Iterable<SqlUserGroups>,
  perGroup: () => Iterable<SqlUserGroups>,
): Generator<SqlUserGroups, void, undefined> {
  const users = perUser()[Symbol.iterator]();
  let last: string | undefined;
  for (;;) {
    let next: IteratorResult<SqlUserGroups>;
    try {
      next = users.next();
    } catch (error) {
      if (!tooBig(error)) throw error;
      break;
    }
    if (next.done) return;
    last = next.value.userId;
    yield next.value;
  }
  let skipping = last !== undefined;
  for (const user of perGroup()) {
    if (skipping) skipping = user.userId !== last;
    else yield user;
  }
}

function tooBig(error: unknown): boolean {
  return (
    (error instanceof Error && (error as { code?: unknown }).code === 'SQLITE_TOOBIG') ||
    (error instanceof RangeError && error.message.includes('Invalid string length'))
  );
}

/**
 * Rows of one user each, [user id, JSON array of the user's distinct groups] (CompiledSqlTask's
 * `user` shape): the same users and groups, in the same order, as groupsByUser over the rows of
 * one (user, group) each.
 */
export function* groupsOfUsers(
  rows: Iterable<[userId: string, groups: string]>,
  compiled: Pick<CompiledSqlTask, 'label' | 'formats'>,
  limits: GroupLimits,
): Generator<SqlUserGroups, void, undefined> {
  const grouper = new GroupCollector(compiled, limits);
  for (const [userId, groups] of rows) yield grouper.user(userId, JSON.parse(groups) as unknown[]);
}

/** Rows come ordered by user; each user's distinct joined values, in the order first seen. */
export function* groupsByUser(
  rows: Iterable<unknown[]>,
  compiled: Pick<CompiledSqlTask, 'label' | 'formats'>,
  limits: GroupLimits,
): Generator<SqlUserGroups, void, undefined> {
  const grouper = new GroupCollector(compiled, limits);
  for (const row of rows) {
    const done = grouper.push(row);
    if (done) yield done;
  }
  const last = grouper.finish();
  if (last) yield last;
}

/** The same over rows that arrive in pages (PostgreSQL's cursor). */
export async function* groupsByUserAsync(
  rows: AsyncIterable<unknown[]>,
  compiled: Pick<CompiledSqlTask, 'label' | 'formats'>,
  limits: GroupLimits,
): AsyncGenerator<SqlUserGroups, void, undefined> {
  const grouper = new GroupCollector(compiled, limits);
  for await (const row of rows) {
    const done = grouper.push(row);
    if (done) yield done;
  }
  const last = grouper.finish();
  if (last) yield last;
}

/** The current user's distinct groups; `push` hands back the previous user once a new one starts. */
class GroupCollector {
  private readonly label: string;
  private readonly format: (row: unknown[]) => string;
  private readonly formatGroup: (group: unknown) => string;
  private readonly tooLong: string;
  private readonly tooMany: string;
  private current: string | undefined;
  private readonly values = new Set<string>();
  private error: string | undefined;

  constructor(
    compiled: Pick<CompiledSqlTask, 'label' | 'formats'>,
    private readonly limits: GroupLimits,
  ) {
    this.label = compiled.label;
    this.format = valueFormatter(compiled.formats);
    this.formatGroup = groupFormatter(compiled.formats);
    this.tooLong = `RangeError: report_property: the value is longer than ${limits.maxTextLength} characters`;
    this.tooMany = `RangeError: report_property: more than ${limits.maxProperties} distinct properties for one user`;
  }

  push(row: unknown[]): SqlUserGroups | undefined {
    const userId = row[0] as string;
    let done: SqlUserGroups | undefined;
    if (userId !== this.current) {
      done = this.finish();
      this.current = userId;
    }
    if (this.error === undefined) this.add(this.format(row));
    return done;
  }

  /** One whole user: their distinct groups (a cell each, or an array of cells), in order. */
  user(userId: string, groups: readonly unknown[]): SqlUserGroups {
    this.current = userId;
    for (const group of groups) {
      this.add(this.formatGroup(group));
      if (this.error !== undefined) break;
    }
    return this.finish()!;
  }

  private add(value: string): void {
    if (this.values.has(value)) return;
    if (value.length > this.limits.maxTextLength) this.error = this.tooLong;
    else if (this.values.size >= this.limits.maxProperties) this.error = this.tooMany;
    else this.values.add(value);
  }

  finish(): SqlUserGroups | undefined {
    const userId = this.current;
    if (userId === undefined) return undefined;
    const done: SqlUserGroups =
      this.error !== undefined
        ? { userId, ok: false, error: this.error }
        : { userId, ok: true, properties: Array.from(this.values, (v) => [this.label, v]) };
    this.current = undefined;
    // Emptied rather than replaced: the properties were copied out, and one set serves every user.
    this.values.clear();
    this.error = undefined;
    return done;
  }
}

/**
 * A cell as String() of the JavaScript value a prefetch gives a task: numbers as JavaScript
 * prints them, booleans (stored as 0 and 1) as true and false, NULL as "null". Several groups
 * are joined by ", ". A row holds the user id first, then the cells.
 */
function valueFormatter(formats: readonly GroupFormat[]): (row: unknown[]) => string {
  if (formats.length === 0) return () => '';
  const cells = cellsFormatter(formats, 1);
  return formats.length === 1 ? (row) => cell(row[1], formats[0]!) : cells;
}

/** The same for one group of a JSON array: its one cell, or the array of its cells. */
function groupFormatter(formats: readonly GroupFormat[]): (group: unknown) => string {
  const cells = cellsFormatter(formats, 0);
  return formats.length === 1
    ? (group) => cell(group, formats[0]!)
    : (group) => cells(group as unknown[]);
}

/** Several cells from `first` on, each formatted, joined by ", ". */
function cellsFormatter(formats: readonly GroupFormat[], first: number) {
  return (cells: unknown[]) => formats.map((f, i) => cell(cells[first + i], f)).join(', ');
}

function cell(value: unknown, format: GroupFormat): string {
  return format === 'boolean' && value !== null ? String(value === 1) : String(value);
}
