// All-or-nothing ingestion of a /bulk_insert payload: validate every row, then write them in one transaction.
import type Database from 'better-sqlite3';
import { AppError } from '../../errors/index.ts';
import { describe, display, isPlainObject, listNames, quoteIdentifier } from './names.ts';
import {
  checkUserId,
  ValueProblem,
  valueCheck,
  type SqlValue,
  type ValueCheck,
} from './row-validation.ts';
import type { ColumnType } from '../../shared/index.ts';
import { physicalTableName, type StoredTable, type TableCatalogue } from './table-catalogue.ts';

export interface InsertCounts {
  /** Users with at least one stored row. */
  users: number;
  rows: number;
}

export interface TargetTable {
  table: StoredTable;
  columnIndex: Map<string, number>;
  checks: ValueCheck[];
  /**
   * Bound parameters, ROWS_PER_STATEMENT rows per chunk (the last one may hold fewer), each row
   * as user id, sequence, arrival, then the declared columns in order.
   */
  chunks: SqlValue[][];
  rows: number;
}

const SHAPE = '{"<user id>": {"<table>": [{"<column>": value, ...}, ...]}, ...}';

/**
 * Runs as one IMMEDIATE transaction: the catalogue is read, every row checked and every row written
 * under the same write lock, so a concurrent alter or drop cannot slip in between check and write,
 * and any error leaves the database exactly as it was.
 */
export function insertPayload(
  db: Database.Database,
  catalogue: TableCatalogue,
  orgId: string,
  payload: unknown,
  now: number,
): InsertCounts {
  const arrival = arrivalTime(now);
  return db
    .transaction((): InsertCounts => {
      const next = db.prepare(READ_SEQUENCE).pluck().get() as number;
      const checked = checkPayload(
        (name) => catalogue.require(orgId, name),
        payload,
        next,
        arrival,
      );
      for (const into of checked.targets) writeRows(db, into);
      db.prepare(WRITE_SEQUENCE).run(checked.nextSeq);
      return { users: checked.users, rows: checked.rows };
    })
    .immediate();
}

/** The next row's sequence, read and written inside the transaction that stores the rows. */
export const READ_SEQUENCE = 'SELECT next_seq FROM data_sequence WHERE id = 1';
export const WRITE_SEQUENCE = 'UPDATE data_sequence SET next_seq = ? WHERE id = 1';

export function arrivalTime(now: number): number {
  if (!Number.isFinite(now)) throw new Error(`insert: invalid arrival time ${now}`);
  return Math.trunc(now);
}

/** Every row of a payload checked and bound, per target table, with sequences from `firstSeq` on. */
export interface CheckedPayload extends InsertCounts {
  targets: TargetTable[];
  /** The sequence after the last row's. */
  nextSeq: number;
}

/**
 * A value the importer has already checked against this very table (file-import.ts), bound as
 * valueCheck would bind it, without checking it again.
 */
function bindChecked(type: ColumnType): ValueCheck {
  if (type === 'boolean') return (v) => (v === null ? null : v ? 1 : 0);
  if (type === 'bigint') return (v) => (v === null ? null : Number(v));
  return (v) => v as SqlValue;
}

/**
 * Validates the whole payload before anything is written. Rows get consecutive sequences in
 * payload order; `require` resolves a table name of the organisation (UNKNOWN_TABLE otherwise).
 * `values: 'checked'` binds values the importer has checked against the same version of each
 * table (file-import.ts) without checking them again; the shape is checked either way.
 */
export function checkPayload(
  require: (name: string) => StoredTable,
  payload: unknown,
  firstSeq: number,
  arrival: number,
  values: 'check' | 'checked' = 'check',
): CheckedPayload {
  let seq = firstSeq;
  const targets = new Map<string, TargetTable>();
  const target = (name: string): TargetTable => {
    let found = targets.get(name);
    if (!found) {
      const table = require(name);
      found = {
        table,
        columnIndex: new Map(table.columns.map((c, i) => [c.name, i])),
        checks: table.columns.map((c) => (values === 'check' ? valueCheck : bindChecked)(c.type)),
        chunks: [],
        rows: 0,
      };
      targets.set(name, found);
    }
    return found;
  };

  if (!isPlainObject(payload)) {
    throw new AppError('INVALID_BODY', {
      detail: `expected ${SHAPE}, got ${describe(payload)}.`,
    });
  }
  let users = 0;
  for (const [rawUser, tables] of Object.entries(payload)) {
    const user = checkUserId(rawUser);
    if (!isPlainObject(tables)) {
      throw new AppError('INVALID_BODY', {
        detail: `user "${display(user)}" must map to an object {"<table>": [rows]}, got ${describe(tables)}.`,
      });
    }
    let userRows = 0;
    for (const [tableName, rows] of Object.entries(tables)) {
      const into = target(tableName);
      if (!Array.isArray(rows)) {
        throw new AppError('INVALID_BODY', {
          detail: `user "${display(user)}", table "${display(tableName)}" must be a list of rows, got ${describe(rows)}.`,
        });
      }
      for (let index = 0; index < rows.length; index++) {
        checkRow(into, user, tableName, rows[index], index + 1, seq++, arrival);
      }
      userRows += rows.length;
    }
    if (userRows > 0) users++;
  }
  const list = [...targets.values()];
  return { targets: list, users, rows: list.reduce((n, t) => n + t.rows, 0), nextSeq: seq };
}

/** Rows per INSERT statement: one call into SQLite per 64 rows instead of per row. */
export const ROWS_PER_STATEMENT = 64;

function writeRows(db: Database.Database, { table, chunks, rows }: TargetTable): void {
  if (rows === 0) return;
  const { head, tuple } = insertSql(table);
  const insert = (count: number) => db.prepare(head + Array(count).fill(tuple).join(', '));
  const full = Math.floor(rows / ROWS_PER_STATEMENT);
  if (full > 0) {
    const statement = insert(ROWS_PER_STATEMENT);
    for (let i = 0; i < full; i++) statement.run(chunks[i]);
  }
  const rest = rows - full * ROWS_PER_STATEMENT;
  if (rest > 0) insert(rest).run(chunks[full]);
}

/**
 * A multi-row INSERT into the table's physical table: `head` and then `tuple` once per row, joined
 * by ", ". A row binds user id, sequence, arrival and the declared columns in order.
 */
export function insertSql(table: StoredTable): { head: string; tuple: string } {
  const names = table.columns.map((c) => `, ${quoteIdentifier(c.name)}`).join('');
  return {
    head:
      `INSERT INTO ${quoteIdentifier(physicalTableName(table.id))} ` +
      `(ac_user_id, ac_seq, ac_arrival${names}) VALUES `,
    tuple: `(?, ?, ?${', ?'.repeat(table.columns.length)})`,
  };
}

/** Built only on the error path: display() is not free and checkRow runs for every row. */
function place(user: string, table: string, row: number) {
  return { user: display(user), table, row };
}

/** Checks one row and appends its bound values to the last chunk of `into`. */
function checkRow(
  into: TargetTable,
  user: string,
  tableName: string,
  row: unknown,
  rowNumber: number,
  seq: number,
  arrival: number,
): void {
  if (!isPlainObject(row)) {
    throw new AppError('INVALID_ROW', {
      ...place(user, tableName, rowNumber),
      problem: `a row must be an object {"<column>": value, ...}, got ${describe(row)}.`,
    });
  }
  // A column the row leaves out is stored as null.
  if (into.rows % ROWS_PER_STATEMENT === 0) into.chunks.push([]);
  const values = into.chunks[into.chunks.length - 1] as SqlValue[];
  const base = values.length + 3;
  values.push(user, seq, arrival);
  for (let i = 0; i < into.checks.length; i++) values.push(null);
  for (const column in row) {
    const value = row[column];
    const index = into.columnIndex.get(column);
    if (index === undefined) {
      throw new AppError('UNKNOWN_COLUMN', {
        where: `User "${display(user)}", table "${tableName}", row ${rowNumber}`,
        table: tableName,
        column: display(column),
        known: listNames(into.table.columns.map((c) => c.name)),
      });
    }
    try {
      values[base + index] = (into.checks[index] as ValueCheck)(value);
    } catch (error) {
      if (!(error instanceof ValueProblem)) throw error;
      throw new AppError('INVALID_VALUE', {
        ...place(user, tableName, rowNumber),
        column,
        problem: error.message,
      });
    }
  }
  into.rows++;
}
