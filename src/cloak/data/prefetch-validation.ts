// Full validation of a prefetch (data selection) against an organisation's tables, with precise paths.
import { AppError } from '../../errors/index.ts';
import type {
  ColumnType,
  ComparisonOperator,
  FilterValue,
  PrefetchSpec,
  WhereTerm,
} from '../../shared/index.ts';
import { valueKind } from './column-types.ts';
import { describe, display, isPlainObject, listNames } from './names.ts';
import type { StoredTable } from './table-catalogue.ts';

export const MAX_PREFETCH_TABLES = 20;
/** Comparisons per selected table; keeps the bound parameters far below SQLite's limit. */
export const MAX_COMPARISONS = 1000;
export const MAX_NESTING = 32;

export const OPERATORS: ReadonlyArray<ComparisonOperator> = [
  '$eq',
  '$neq',
  '$gt',
  '$gte',
  '$lt',
  '$lte',
];
const ENTRY_KEYS = new Set(['table', 'user_rows', 'time_limit', 'where']);
const TERM_SHAPES = '{"$$<column>": {"$eq": value}}, {"$or": [...]} or {"$not": ...}';
const DIGITS = /^-?\d{1,16}$/;

export interface PrefetchTables {
  find(name: string): StoredTable | undefined;
  unknown(name: string): AppError;
}

function invalid(path: string, problem: string): AppError {
  return new AppError('INVALID_PREFETCH', { path, problem });
}

/** Returns a normalized copy: only known keys, bigint strings as numbers, nothing else of the input. */
export function validatePrefetch(prefetch: unknown, tables: PrefetchTables): PrefetchSpec[] {
  const root = '(the whole list)';
  if (!Array.isArray(prefetch)) {
    throw invalid(
      root,
      `expected a list of {"table": "<name>", "user_rows"?, "time_limit"?, "where"?}, got ${describe(prefetch)}.`,
    );
  }
  if (prefetch.length === 0) throw invalid(root, 'select at least one table.');
  if (prefetch.length > MAX_PREFETCH_TABLES) {
    throw invalid(root, `select at most ${MAX_PREFETCH_TABLES} tables, got ${prefetch.length}.`);
  }
  const seen = new Map<string, number>();
  return prefetch.map((entry, index) => {
    const spec = validateEntry(entry, `[${index}]`, tables);
    const earlier = seen.get(spec.table);
    if (earlier !== undefined) {
      throw invalid(
        `[${index}].table`,
        `table "${spec.table}" is already selected by [${earlier}]; select each table once and combine conditions with "$or".`,
      );
    }
    seen.set(spec.table, index);
    return spec;
  });
}

function validateEntry(entry: unknown, path: string, tables: PrefetchTables): PrefetchSpec {
  if (!isPlainObject(entry)) {
    throw invalid(path, `expected an object {"table": "<name>", ...}, got ${describe(entry)}.`);
  }
  for (const key of Object.keys(entry)) {
    if (!ENTRY_KEYS.has(key)) {
      throw invalid(
        path,
        `unknown key "${display(key, 40)}"; allowed keys are table, user_rows, time_limit and where.`,
      );
    }
  }
  if (typeof entry.table !== 'string') {
    throw invalid(`${path}.table`, `expected a table name, got ${describe(entry.table)}.`);
  }
  const table = tables.find(entry.table);
  if (!table) throw tables.unknown(entry.table);
  const spec: PrefetchSpec = { table: table.name };
  if (entry.user_rows !== undefined) {
    const n = entry.user_rows;
    if (typeof n !== 'number' || !Number.isSafeInteger(n) || n < 1) {
      throw invalid(
        `${path}.user_rows`,
        `expected a whole number of at least 1 (rows kept per user), got ${describe(n)}.`,
      );
    }
    spec.user_rows = n;
  }
  if (entry.time_limit !== undefined) {
    const t = entry.time_limit;
    if (typeof t !== 'number' || !Number.isFinite(t) || t <= 0) {
      throw invalid(
        `${path}.time_limit`,
        `expected a positive number of seconds, got ${describe(t)}.`,
      );
    }
    spec.time_limit = t;
  }
  if (entry.where !== undefined) {
    if (!Array.isArray(entry.where)) {
      throw invalid(
        `${path}.where`,
        `expected a list of terms (all must hold), got ${describe(entry.where)}.`,
      );
    }
    const budget = { comparisons: 0 };
    spec.where = entry.where.map((term, i) =>
      validateTerm(term, `${path}.where[${i}]`, table, 1, budget),
    );
  }
  return spec;
}

interface Budget {
  comparisons: number;
}

function validateTerm(
  term: unknown,
  path: string,
  table: StoredTable,
  depth: number,
  budget: Budget,
): WhereTerm {
  if (depth > MAX_NESTING)
    throw invalid(path, `terms are nested more than ${MAX_NESTING} levels deep.`);
  if (!isPlainObject(term))
    throw invalid(path, `expected a term ${TERM_SHAPES}, got ${describe(term)}.`);
  const keys = Object.keys(term);
  if (keys.length === 0) throw invalid(path, `the term is empty; write ${TERM_SHAPES}.`);
  if (keys.includes('$or') || keys.includes('$not')) {
    const key = keys.includes('$or') ? '$or' : '$not';
    if (keys.length > 1) {
      throw invalid(
        path,
        `"${key}" must be the only key of its term; put the other conditions in separate terms of the list.`,
      );
    }
    if (key === '$not')
      return { $not: validateTermOrList(term.$not, `${path}.$not`, table, depth + 1, budget) };
    const alternatives = term.$or;
    if (!Array.isArray(alternatives) || alternatives.length === 0) {
      throw invalid(
        `${path}.$or`,
        `expected a non-empty list of alternatives (terms or lists of terms), got ${describe(alternatives)}.`,
      );
    }
    return {
      $or: alternatives.map((alt, i) =>
        validateTermOrList(alt, `${path}.$or[${i}]`, table, depth + 1, budget),
      ),
    };
  }
  const result: Record<string, Partial<Record<ComparisonOperator, FilterValue>>> = {};
  for (const key of keys) {
    if (!key.startsWith('$$')) {
      throw invalid(path, `unknown key "${display(key, 40)}"; a term is ${TERM_SHAPES}.`);
    }
    const name = key.slice(2);
    const column = table.columns.find((c) => c.name === name);
    if (!column) {
      throw new AppError('UNKNOWN_COLUMN', {
        where: `Prefetch ${path}`,
        table: table.name,
        column: display(name, 63),
        known: listNames(table.columns.map((c) => c.name)),
      });
    }
    result[key] = validateComparisons(term[key], `${path}.${key}`, name, column.type, budget);
  }
  return result as WhereTerm;
}

function validateTermOrList(
  value: unknown,
  path: string,
  table: StoredTable,
  depth: number,
  budget: Budget,
): WhereTerm | WhereTerm[] {
  if (!Array.isArray(value)) return validateTerm(value, path, table, depth, budget);
  // An empty list would mean "always true", which inside $or/$not is almost certainly a mistake.
  if (value.length === 0)
    throw invalid(path, 'the list of terms is empty; give at least one term.');
  return value.map((term, i) => validateTerm(term, `${path}[${i}]`, table, depth + 1, budget));
}

function validateComparisons(
  ops: unknown,
  path: string,
  column: string,
  type: ColumnType,
  budget: Budget,
): Partial<Record<ComparisonOperator, FilterValue>> {
  if (!isPlainObject(ops) || Object.keys(ops).length === 0) {
    throw invalid(
      path,
      `expected one or more comparisons such as {"$eq": value} (${OPERATORS.join(' ')}), got ${describe(ops)}.`,
    );
  }
  const result: Partial<Record<ComparisonOperator, FilterValue>> = {};
  for (const [op, value] of Object.entries(ops)) {
    if (!(OPERATORS as readonly string[]).includes(op)) {
      throw invalid(
        path,
        `unknown operator "${display(op, 40)}"; use one of ${OPERATORS.join(' ')}.`,
      );
    }
    budget.comparisons++;
    if (budget.comparisons > MAX_COMPARISONS) {
      throw invalid(path, `a selection may hold at most ${MAX_COMPARISONS} comparisons.`);
    }
    result[op as ComparisonOperator] = checkFilterValue(value, `${path}.${op}`, op, column, type);
  }
  return result;
}

/** Values must suit the column: SQLite would otherwise compare across types and silently match nothing. */
function checkFilterValue(
  value: unknown,
  path: string,
  op: string,
  column: string,
  type: ColumnType,
): FilterValue {
  const kind = valueKind(type);
  if (value === null) {
    if (op === '$eq' || op === '$neq') return null;
    throw invalid(
      path,
      `null can only be compared with $eq or $neq (to find rows where "${column}" is or is not null).`,
    );
  }
  if (kind === 'number') {
    if (typeof value === 'number' && Number.isFinite(value)) return value;
    // As on upload, a bigint may be written as a string of digits.
    if (
      type === 'bigint' &&
      typeof value === 'string' &&
      DIGITS.test(value) &&
      Number.isSafeInteger(Number(value))
    ) {
      return Number(value);
    }
  } else if (typeof value === kind) {
    return value as string | boolean;
  }
  const wanted = kind === 'boolean' ? 'true or false' : `a ${kind}`;
  throw invalid(
    path,
    `column "${column}" holds ${kind === 'boolean' ? 'booleans' : `${kind}s`}, so compare it with ${wanted} (or null), got ${describe(value)}.`,
  );
}
