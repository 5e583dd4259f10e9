// The column types a user table may declare: parsing, normalization and their SQLite storage.
import { AppError } from '../../errors/index.ts';
import type { ColumnDefinition, ColumnType } from '../../shared/index.ts';
import { checkName, describe, display, isPlainObject } from './names.ts';

export const MAX_VARCHAR_LENGTH = 65535;
/** Far below SQLite's own limit of 2000, leaving room for the bookkeeping columns. */
export const MAX_COLUMNS = 1000;

const SIMPLE_TYPES = new Set(['integer', 'bigint', 'float', 'double', 'boolean', 'text']);
const VARCHAR = /^varchar\s*\(\s*(\d{1,5})\s*\)$/;

/** The lowercase canonical form of a type, or undefined when it is not a supported type. */
export function normalizeColumnType(raw: string): ColumnType | undefined {
  const text = raw.trim().toLowerCase();
  if (SIMPLE_TYPES.has(text)) return text as ColumnType;
  const match = VARCHAR.exec(text);
  if (!match) return undefined;
  const length = Number(match[1]);
  if (length < 1 || length > MAX_VARCHAR_LENGTH) return undefined;
  return `varchar(${length})`;
}

/** The declared length of a varchar type, or undefined for every other type. */
export function varcharLength(type: ColumnType): number | undefined {
  return type.startsWith('varchar(') ? Number(type.slice(8, -1)) : undefined;
}

/** What the prefetch filter may compare a column with. */
export type ValueKind = 'number' | 'string' | 'boolean';

export function valueKind(type: ColumnType): ValueKind {
  if (type === 'boolean') return 'boolean';
  if (type === 'text' || type.startsWith('varchar(')) return 'string';
  return 'number';
}

/** STRICT storage classes: booleans are stored as 0/1 and turned back into true/false on read. */
export function storageType(type: ColumnType): 'INTEGER' | 'REAL' | 'TEXT' {
  if (type === 'float' || type === 'double') return 'REAL';
  if (valueKind(type) === 'string') return 'TEXT';
  return 'INTEGER';
}

/** Validates one `{name, type}` column definition from a request body. */
export function parseColumnDefinition(raw: unknown, where: string): ColumnDefinition {
  if (!isPlainObject(raw)) {
    throw new AppError('INVALID_BODY', {
      detail: `${where} must be an object {"name": "<column>", "type": "<type>"}, got ${describe(raw)}.`,
    });
  }
  const extra = Object.keys(raw).filter((key) => key !== 'name' && key !== 'type');
  if (extra.length > 0) {
    throw new AppError('INVALID_BODY', {
      detail: `${where} has the unknown key "${display(extra[0] as string)}"; a column is {"name": "<column>", "type": "<type>"}.`,
    });
  }
  const name = checkName(raw.name, 'column');
  const type = typeof raw.type === 'string' ? normalizeColumnType(raw.type) : undefined;
  if (type === undefined) {
    const shown = typeof raw.type === 'string' ? display(raw.type, 40) : describe(raw.type);
    throw new AppError('INVALID_COLUMN_TYPE', { column: name, type: shown });
  }
  return { name, type };
}

/** Validates a list of column definitions whose names must be distinct, ignoring case. */
export function parseColumnList(raw: unknown, where: string): ColumnDefinition[] {
  if (!Array.isArray(raw)) {
    throw new AppError('INVALID_BODY', {
      detail: `${where} must be a list of {"name": "<column>", "type": "<type>"} objects, got ${describe(raw)}.`,
    });
  }
  if (raw.length > MAX_COLUMNS) {
    throw new AppError('INVALID_BODY', {
      detail: `${where} has ${raw.length} columns; a table may have at most ${MAX_COLUMNS}.`,
    });
  }
  const seen = new Set<string>();
  return raw.map((item, index) => {
    const column = parseColumnDefinition(item, `${where}[${index}]`);
    const key = column.name.toLowerCase();
    if (seen.has(key)) throw new AppError('DUPLICATE_COLUMN', { column: column.name });
    seen.add(key);
    return column;
  });
}
