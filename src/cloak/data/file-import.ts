// Bulk import of CSV and NDJSON files: streamed line by line, stored in all-or-nothing batches.
import { StringDecoder } from 'node:string_decoder';
import type { Readable } from 'node:stream';
import { AppError } from '../../errors/index.ts';
import { JsonTextProblem, parseJsonText } from '../../shared/index.ts';
import { csvRecords, CsvProblem, listUpToError, type CsvRecord } from './csv-records.ts';
import type { ColumnType } from '../../shared/index.ts';
import type { ImportPosition } from './import-progress.ts';
import { describe, display, isPlainObject, listNames } from './names.ts';
import { checkUserId, ValueProblem, valueCheck, type ValueCheck } from './row-validation.ts';
import type { TableInfo } from './table-catalogue.ts';

export type ImportFormat = 'csv' | 'ndjson';

export interface ImportOptions {
  format: ImportFormat;
  table: string;
  /** The field naming each row's user; it is not stored as a column. */
  userColumn: string;
  /** Shown in errors, e.g. the file name. */
  source: string;
  /** Rows per transaction (default 5,000). */
  batchRows?: number;
  /** Lines before this one (1-based) are read but not stored: resumes a failed import. */
  fromLine?: number;
  /**
   * Continue after the last line this import (the target's import id) stored, whatever stopped
   * it, kill -9 included: each batch was stored with that line in one transaction, so nothing is
   * stored twice. Overrides fromLine; without a stored position the import starts at line 1.
   */
  resume?: boolean;
  /** Names the import whose position `resume` reads (the store's default: table and source). */
  importId?: string;
  onProgress?: (progress: ImportProgress) => void;
}

export interface ImportProgress {
  /** The last line of the file read so far. */
  line: number;
  rows: number;
  bytes: number;
}

export interface ImportResult {
  /** Rows stored by this call (a resumed import's earlier rows are not counted again). */
  rows: number;
  users: number;
  lines: number;
  /** With `resume`: the last line the earlier attempts had stored (0 when none). */
  resumedAfterLine?: number;
}

/**
 * What the importer needs of the store: the table's columns, an all-or-nothing insert that stores
 * the import's position with the rows, and that position as last stored.
 */
export interface ImportTarget {
  table(name: string): TableInfo | Promise<TableInfo>;
  /** Synchronous on SQLite (no promise per batch on the embedded hot path), async on PostgreSQL. */
  insert(
    payload: Record<string, Record<string, Array<Record<string, unknown>>>>,
    position: ImportPosition,
  ): void | Promise<void>;
  /**
   * Batches whose inserts may be under way at once (default 1: each is stored before the next
   * line is read). With more, the importer reads and checks the next batch while `insert`'s
   * promise for the last one is pending, and counts batches stored as their promises resolve, in
   * order. Such a target stores batches in the order given and none after one that failed, so
   * that what is stored is a prefix of the file.
   */
  inFlight?: number;
  /** The position stored last, for `resume`. */
  stored(): ImportPosition | undefined | Promise<ImportPosition | undefined>;
  /** Records a position without rows (the end of the file). */
  record(position: ImportPosition): void | Promise<void>;
}

/** A batch handed to the target: what it held, and how its insert ended. */
interface Pending {
  batch: Batch;
  line: number;
  bytes: number;
  outcome: Promise<{ error: unknown }>;
}

/** A line the importer refuses; it becomes IMPORT_INVALID_LINE once the batches before it are counted. */
class LineProblem extends Error {
  constructor(
    readonly line: number,
    readonly problem: string,
  ) {
    super(`line ${line}: ${problem}`);
  }
}

interface Batch {
  payload: Record<string, Record<string, Array<Record<string, unknown>>>>;
  rows: number;
  firstLine: number;
  users: Set<string>;
}

/** A record as read: its line and its fields, by column name. */
interface Line {
  line: number;
  fields: Record<string, unknown>;
  /** CSV: every field is text, to be read by column type (an empty field is null). */
  text: boolean;
  /** Bytes of the file read up to this record. */
  bytes: number;
}

const DEFAULT_BATCH_ROWS = 5000;

/**
 * Memory is bounded by one batch: lines are read with backpressure (no more is read while a batch is
 * written: the loop awaits the insert) and a batch is dropped once stored.
 */
export async function importFile(
  target: ImportTarget,
  input: Readable,
  options: ImportOptions,
): Promise<ImportResult> {
  const table = await target.table(options.table);
  const columns = new Map(table.columns.map((c) => [c.name, c.type]));
  const checks = new Map<string, ValueCheck>(
    table.columns.map((c) => [c.name, valueCheck(c.type)]),
  );
  const batchRows = options.batchRows ?? DEFAULT_BATCH_ROWS;
  const earlier = options.resume
    ? ((await target.stored()) ?? { line: 0, rows: 0, finished: false })
    : undefined;
  const fromLine = earlier ? earlier.line + 1 : (options.fromLine ?? 1);
  /** Rows the import stored before this call, when it resumes. */
  const before = earlier?.rows ?? 0;
  let bytes = 0;

  let stored = 0;
  const allUsers = new Set<string>();
  let lastLine = 0;
  let batch: Batch = newBatch();
  /** Batches handed to the target and not yet counted, oldest first. */
  const pending: Pending[] = [];
  const inFlight = Math.max(1, target.inFlight ?? 1);

  const invalidLine = (line: number, problem: string, first: number): AppError =>
    new AppError('IMPORT_INVALID_LINE', {
      source: options.source,
      line,
      problem,
      first,
      stored,
    });
  const fail = (line: number, problem: string): LineProblem => new LineProblem(line, problem);

  /** Waits for the oldest batch in flight and counts it; a batch that failed ends the import. */
  const settleOldest = async () => {
    const { batch: written, line, bytes: read, outcome } = pending.shift() as Pending;
    const { error } = await outcome;
    if (error !== undefined) {
      if (!(error instanceof AppError)) throw error;
      throw invalidLine(written.firstLine, error.message, written.firstLine);
    }
    stored += written.rows;
    for (const user of written.users) allUsers.add(user);
    options.onProgress?.({ line, rows: stored, bytes: read });
  };
  /** Every batch in flight counted, or the first failure among them thrown. */
  const settleAll = async () => {
    while (pending.length > 0) await settleOldest();
  };

  const flush = async () => {
    if (batch.rows === 0) return;
    const position = { line: lastLine, rows: before + stored + batch.rows, finished: false };
    // Rows stored before this batch: the ones counted and the ones still in flight.
    for (const p of pending) position.rows += p.batch.rows;
    const { payload } = batch;
    // Never rejects, so a batch whose failure is counted later is not an unhandled rejection.
    const outcome = Promise.resolve()
      .then(() => target.insert(payload, position))
      .then(
        () => ({ error: undefined }),
        (error: unknown) => ({ error: error ?? new Error('the insert failed') }),
      );
    pending.push({ batch, line: lastLine, bytes, outcome });
    batch = newBatch();
    while (pending.length >= inFlight) await settleOldest();
  };

  const lines =
    options.format === 'csv' ? csvLines(input, options, columns, fail) : ndjsonLines(input, fail);
  /** One line's user and row, checked by column type; a LineProblem names what is wrong. */
  const readRow = (line: number, fields: Record<string, unknown>, text: boolean) => {
    const rawUser = fields[options.userColumn];
    if (rawUser === undefined || rawUser === null || rawUser === '') {
      throw fail(line, `the user column "${display(options.userColumn)}" is missing or empty.`);
    }
    let user: string;
    try {
      user = checkUserId(
        typeof rawUser === 'number' && Number.isSafeInteger(rawUser) ? String(rawUser) : rawUser,
      );
    } catch (error) {
      if (!(error instanceof AppError)) throw error;
      throw fail(line, error.message);
    }
    const row: Record<string, unknown> = {};
    for (const name in fields) {
      if (name === options.userColumn) continue;
      const type = columns.get(name);
      if (type === undefined) {
        throw fail(
          line,
          `table "${table.name}" has no column "${display(name)}" (its columns: ${listNames([...columns.keys()])}).`,
        );
      }
      const raw = fields[name];
      try {
        const value = text ? fromText(raw as string, type) : raw;
        (checks.get(name) as ValueCheck)(value);
        row[name] = value;
      } catch (error) {
        if (!(error instanceof ValueProblem)) throw error;
        throw fail(line, `column "${name}": ${error.message}`);
      }
    }
    return { user, row };
  };

  try {
    for await (const list of lines) {
      for (const { line, fields, text, bytes: read } of list) {
        lastLine = line;
        bytes = read;
        if (line < fromLine) continue;
        const { user, row } = readRow(line, fields, text);
        if (batch.rows === 0) batch.firstLine = line;
        const tables = (batch.payload[user] ??= {});
        (tables[table.name] ??= []).push(row);
        batch.users.add(user);
        batch.rows++;
        if (batch.rows >= batchRows) await flush();
      }
    }
    await flush();
    await settleAll();
  } catch (error) {
    // Whatever stopped the import, the batches before it are stored (or failed) first: the
    // error then says how many rows were, and nothing is written after the call returns.
    if (error instanceof LineProblem) {
      await settleAll();
      throw invalidLine(error.line, error.problem, batch.rows > 0 ? batch.firstLine : error.line);
    }
    await Promise.all(pending.map((p) => p.outcome));
    throw error;
  }
  await target.record({
    line: Math.max(lastLine, fromLine - 1),
    rows: before + stored,
    finished: true,
  });
  return {
    rows: stored,
    users: allUsers.size,
    lines: lastLine,
    ...(earlier ? { resumedAfterLine: earlier.line } : {}),
  };
}

function newBatch(): Batch {
  // No prototype: a user id such as "__proto__" is an ordinary key.
  return {
    payload: Object.create(null) as Batch['payload'],
    rows: 0,
    firstLine: 0,
    users: new Set(),
  };
}

const WHOLE = /^[+-]?\d+$/;
const DECIMAL = /^[+-]?(\d+\.?\d*|\.\d+)([eE][+-]?\d+)?$/;

/** A CSV field to the JSON value an upload would carry for that column type. */
function fromText(field: string, type: ColumnType): unknown {
  // Telling "" from an empty field would need a cast function, for which csv-parse builds a context per field (5x slower).
  if (field === '') return null;
  if (type === 'integer' || type === 'bigint') {
    const trimmed = field.trim();
    if (!WHOLE.test(trimmed))
      throw new ValueProblem(`expected a whole number (${type}), got "${display(field, 40)}".`);
    // A bigint keeps its digits as a string, so the range check sees them all.
    return type === 'bigint' ? trimmed.replace(/^\+/, '') : Number(trimmed);
  }
  if (type === 'float' || type === 'double') {
    const trimmed = field.trim();
    if (!DECIMAL.test(trimmed))
      throw new ValueProblem(`expected a number (${type}), got "${display(field, 40)}".`);
    return Number(trimmed);
  }
  if (type === 'boolean') {
    const word = field.trim().toLowerCase();
    if (word === 'true' || word === '1') return true;
    if (word === 'false' || word === '0') return false;
    throw new ValueProblem(`expected true, false, 1 or 0 (boolean), got "${display(field, 40)}".`);
  }
  return field;
}

/** CSV with a header line naming the columns (csv-records.ts reads the records and their lines). */
async function* csvLines(
  input: Readable,
  options: ImportOptions,
  columns: Map<string, ColumnType>,
  fail: (line: number, problem: string) => LineProblem,
): AsyncGenerator<Line[]> {
  let header: string[] | undefined;
  const read = (records: readonly CsvRecord[], out: Line[]) => {
    for (const { fields: record, line, bytes } of records) {
      if (!header) {
        header = record.map((name) => name.trim());
        if (!header.includes(options.userColumn)) {
          throw fail(
            line,
            `the header has no user column "${display(options.userColumn)}" (it has: ${listNames(header)}); name it with --user-column.`,
          );
        }
        const unknown = header.find((name) => name !== options.userColumn && !columns.has(name));
        if (unknown !== undefined) {
          throw fail(
            line,
            `the header names column "${display(unknown)}", which the table does not have (its columns: ${listNames([...columns.keys()])}).`,
          );
        }
        continue;
      }
      if (record.length !== header.length) {
        throw new CsvProblem(
          line,
          `the line has ${record.length} fields and the header ${header.length}`,
        );
      }
      const fields: Record<string, unknown> = {};
      for (let i = 0; i < header.length; i++) fields[header[i]!] = record[i];
      out.push({ line, fields, text: true, bytes });
    }
  };
  try {
    for await (const records of csvRecords(input)) {
      yield* listUpToError<Line>((out) => read(records, out));
    }
  } catch (error) {
    if (!(error instanceof CsvProblem)) throw error;
    throw fail(error.line, `the CSV cannot be read: ${error.message}.`);
  }
}

/** One JSON object per line; blank lines are skipped. */
async function* ndjsonLines(
  input: Readable,
  fail: (line: number, problem: string) => LineProblem,
): AsyncGenerator<Line[]> {
  const decoder = new StringDecoder('utf8');
  let rest = '';
  let line = 0;
  let bytes = 0;
  const parseLine = (text: string): Line | undefined => {
    line++;
    if (text.trim() === '') return undefined;
    let value: unknown;
    try {
      value = parseJsonText(text);
    } catch (error) {
      if (!(error instanceof JsonTextProblem)) throw error;
      if (error.kind === 'duplicate' && error.path.length === 0) {
        throw fail(
          line,
          `column "${display(error.key)}" occurs twice, and JSON keeps only the last value; give each column once.`,
        );
      }
      throw fail(line, `not valid JSON: ${error.message}.`);
    }
    if (!isPlainObject(value))
      throw fail(line, `expected a JSON object {"<column>": value, ...}, got ${describe(value)}.`);
    return { line, fields: value, text: false, bytes };
  };
  for await (const chunk of input) {
    bytes += (chunk as Buffer | string).length;
    const text = rest + (typeof chunk === 'string' ? chunk : decoder.write(chunk as Buffer));
    const parts = text.split('\n');
    rest = parts.pop() as string;
    yield* listUpToError<Line>((out) => {
      for (const part of parts) {
        const parsed = parseLine(part.endsWith('\r') ? part.slice(0, -1) : part);
        if (parsed) out.push(parsed);
      }
    });
  }
  const last = parseLine(rest + decoder.end());
  if (last) yield [last];
}
