// Turns a validated prefetch into one SQL query streaming every selected row ordered by (user, arrival).
import type {
  ComparisonOperator,
  FilterValue,
  PrefetchSpec,
  WhereTerm,
} from '../../shared/index.ts';
import { quoteIdentifier } from './names.ts';
import type { SqlValue } from './row-validation.ts';
import { physicalTableName, type StoredTable } from './table-catalogue.ts';

/** Each result row is [table index, user id, sequence, ...that table's columns, NULL padding]. */
export interface StreamQuery {
  sql: string;
  params: SqlValue[];
}

const ORDERING: Record<'$gt' | '$gte' | '$lt' | '$lte', string> = {
  $gt: '>',
  $gte: '>=',
  $lt: '<',
  $lte: '<=',
};

/**
 * Every selected table becomes one arm of a UNION ALL ordered by (user id, sequence). Each arm is
 * read in primary-key order, so SQLite merges the arms without sorting anything (a test checks the
 * plan): memory stays bounded however many users there are. The sequence is global across tables,
 * so ordering by it needs no per-table term. `user_rows` is applied while reading (user-stream.ts).
 *
 * Only catalogue identifiers (validated names, internal ids, our own loop indexes) reach the SQL
 * text; every value from the request is a bound parameter.
 */
export function buildStreamQuery(
  specs: readonly PrefetchSpec[],
  tables: readonly StoredTable[],
  now: number,
  /** Only these users (streaming tasks run the users whose data just arrived). */
  userIds?: readonly string[],
): StreamQuery {
  const width = Math.max(...tables.map((t) => t.columns.length));
  const params: SqlValue[] = [];
  const arms = specs.map((spec, index) => {
    const table = tables[index] as StoredTable;
    const conditions: string[] = [];
    if (userIds !== undefined) {
      conditions.push('ac_user_id IN (SELECT value FROM json_each(?))');
      params.push(JSON.stringify(userIds));
    }
    if (spec.time_limit !== undefined) {
      conditions.push('ac_arrival >= ?');
      params.push(now - spec.time_limit * 1000);
    }
    if (spec.where && spec.where.length > 0) conditions.push(andAll(spec.where, params));
    const columns = table.columns.map((c) => quoteIdentifier(c.name));
    while (columns.length < width) columns.push('NULL');
    const select = [`${index} AS ac_t`, 'ac_user_id AS ac_u', 'ac_seq AS ac_s', ...columns].join(
      ', ',
    );
    const where = conditions.length > 0 ? ` WHERE ${joinBalanced(conditions, 'AND')}` : '';
    return `SELECT ${select} FROM ${quoteIdentifier(physicalTableName(table.id))}${where}`;
  });
  return { sql: `${arms.join(' UNION ALL ')} ORDER BY ac_u, ac_s`, params };
}

function andAll(terms: readonly WhereTerm[], params: SqlValue[]): string {
  return joinBalanced(
    terms.map((t) => compileTerm(t, params)),
    'AND',
  );
}

/**
 * Balanced nesting keeps the expression depth logarithmic, far inside SQLite's limit of 1000 even
 * for a long $or list. Every part is 0 or 1 (never NULL), so NOT and OR follow two-valued logic.
 */
function joinBalanced(parts: readonly string[], op: 'AND' | 'OR'): string {
  if (parts.length === 1) return parts[0] as string;
  const middle = Math.ceil(parts.length / 2);
  return `(${joinBalanced(parts.slice(0, middle), op)} ${op} ${joinBalanced(parts.slice(middle), op)})`;
}

function compileTermOrList(value: WhereTerm | WhereTerm[], params: SqlValue[]): string {
  return Array.isArray(value) ? andAll(value, params) : compileTerm(value, params);
}

function compileTerm(term: WhereTerm, params: SqlValue[]): string {
  if ('$or' in term && Array.isArray(term.$or)) {
    return joinBalanced(
      term.$or.map((alt) => compileTermOrList(alt, params)),
      'OR',
    );
  }
  if ('$not' in term && term.$not !== undefined)
    return `(NOT ${compileTermOrList(term.$not as WhereTerm, params)})`;
  const parts: string[] = [];
  for (const [key, ops] of Object.entries(
    term as Record<string, Partial<Record<ComparisonOperator, FilterValue>>>,
  )) {
    const column = quoteIdentifier(key.slice(2));
    for (const [op, value] of Object.entries(ops) as Array<[ComparisonOperator, FilterValue]>) {
      parts.push(compileComparison(column, op, value, params));
    }
  }
  return joinBalanced(parts, 'AND');
}

/**
 * Null-safe: `$eq` and `$neq` use IS / IS NOT, so a null cell is "not equal" to any value (as in
 * JavaScript and MongoDB); an ordering comparison with a null cell is false, never NULL.
 */
function compileComparison(
  column: string,
  op: ComparisonOperator,
  value: FilterValue,
  params: SqlValue[],
): string {
  if (value === null) return op === '$eq' ? `(${column} IS NULL)` : `(${column} IS NOT NULL)`;
  params.push(typeof value === 'boolean' ? (value ? 1 : 0) : value);
  if (op === '$eq') return `(${column} IS ?)`;
  if (op === '$neq') return `(${column} IS NOT ?)`;
  return `IFNULL(${column} ${ORDERING[op]} ?, 0)`;
}
