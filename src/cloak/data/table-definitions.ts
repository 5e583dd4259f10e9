// Request bodies that define or change a user table, checked the same way by every data store.
import { AppError } from '../../errors/index.ts';
import type { ColumnDefinition } from '../../shared/index.ts';
import { parseColumnList } from './column-types.ts';
import { checkName, describe, display, isPlainObject, listNames } from './names.ts';
import type { StoredTable } from './table-catalogue.ts';

/** The organisation comes from a verified certificate; an empty one is a bug, not a client error. */
export function checkOrg(orgId: string): void {
  if (typeof orgId !== 'string' || orgId.length === 0)
    throw new Error('CloakDataStore: missing organisation id');
}

/** `{"name": "<table>", "columns": [{"name", "type"}, ...]}`. */
export function parseTableDefinition(def: unknown): { name: string; columns: ColumnDefinition[] } {
  if (!isPlainObject(def)) {
    throw new AppError('INVALID_BODY', {
      detail: `a table definition is {"name": "<table>", "columns": [{"name": "<column>", "type": "<type>"}, ...]}, got ${describe(def)}.`,
    });
  }
  const extra = Object.keys(def).find((key) => key !== 'name' && key !== 'columns');
  if (extra !== undefined) {
    throw new AppError('INVALID_BODY', {
      detail: `the table definition has the unknown key "${display(extra, 40)}"; use "name" and "columns".`,
    });
  }
  const name = checkName(def.name, 'table');
  if (Array.isArray(def.columns) && def.columns.length === 0)
    throw new AppError('NO_COLUMNS', { table: name });
  return { name, columns: parseColumnList(def.columns, 'columns') };
}

/** `{add?: [{name, type}], drop?: [name]}`, at least one of them. */
export function parseTableChange(change: unknown): { add: ColumnDefinition[]; drop: string[] } {
  if (!isPlainObject(change)) {
    throw new AppError('INVALID_BODY', {
      detail: `a table change is {"add": [{"name": "<column>", "type": "<type>"}], "drop": ["<column>"]}, got ${describe(change)}.`,
    });
  }
  const extra = Object.keys(change).find((key) => key !== 'add' && key !== 'drop');
  if (extra !== undefined) {
    throw new AppError('INVALID_BODY', {
      detail: `the table change has the unknown key "${display(extra, 40)}"; use "add" and "drop".`,
    });
  }
  const add = change.add === undefined ? [] : parseColumnList(change.add, 'add');
  const drop = change.drop === undefined ? [] : parseDropList(change.drop);
  if (add.length === 0 && drop.length === 0) {
    throw new AppError('INVALID_BODY', {
      detail: 'the table change adds and drops nothing; give "add" or "drop".',
    });
  }
  return { add, drop };
}

/** Checked against the table as it is inside the altering transaction. */
export function checkTableChange(
  table: StoredTable,
  add: readonly ColumnDefinition[],
  drop: readonly string[],
): void {
  const known = listNames(table.columns.map((c) => c.name));
  drop.forEach((column, i) => {
    if (!table.columns.some((c) => c.name === column)) {
      throw new AppError('UNKNOWN_COLUMN', {
        where: `drop[${i}]`,
        table: table.name,
        column: display(column),
        known,
      });
    }
  });
  const remaining = table.columns.filter((c) => !drop.includes(c.name));
  for (const column of add) {
    const clash = remaining.find((c) => c.name.toLowerCase() === column.name.toLowerCase());
    if (clash) throw new AppError('COLUMN_EXISTS', { table: table.name, column: clash.name });
  }
  if (remaining.length + add.length === 0) throw new AppError('NO_COLUMNS', { table: table.name });
}

function parseDropList(raw: unknown): string[] {
  if (!Array.isArray(raw)) {
    throw new AppError('INVALID_BODY', {
      detail: `"drop" must be a list of column names, got ${describe(raw)}.`,
    });
  }
  const seen = new Set<string>();
  return raw.map((name, i) => {
    if (typeof name !== 'string') {
      throw new AppError('INVALID_BODY', {
        detail: `drop[${i}] must be a column name, got ${describe(name)}.`,
      });
    }
    if (seen.has(name)) {
      throw new AppError('INVALID_BODY', {
        detail: `drop[${i}] names column "${display(name)}" a second time.`,
      });
    }
    seen.add(name);
    return name;
  });
}
