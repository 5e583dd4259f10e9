// Turns a validated prefetch into one SQL query streaming every selected row ordered by (user, arrival).
import type {
  ComparisonOperator,
  FilterValue,
  PrefetchSpec,
  WhereTerm,
} from '../../shared/index.ts';
import { quoteIdentifier } from './names.ts';
import { SQLITE_FLAVOR, type SqlFlavor } from './sql-dialect.ts';
import type { SqlValue } from './row-validation.ts';
import { physicalTableName, type StoredTable } from './table-catalogue.ts';

/**
 * Each result row is [table index, user id, sequence, ...column slots]. On SQLite every arm puts
 * its columns first and pads with NULL; PostgreSQL needs one type per column of a UNION, so there
 * each arm has slots of its own, starting at `offsets[index]`, NULL in every other arm's slots.
 */
export interface StreamQuery {
  sql: string;
  params: SqlValue[];
  offsets: number[];
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
  flavor: SqlFlavor = SQLITE_FLAVOR,
): StreamQuery {
  const disjoint = flavor.dialect === 'postgres';
  const offsets: number[] = [];
  let width = 0;
  for (const table of tables) {
    offsets.push(disjoint ? width : 0);
    width = disjoint ? width + table.columns.length : Math.max(width, table.columns.length);
  }
  const params: SqlValue[] = [];
  const arms = specs.map((spec, index) => {
    const table = tables[index] as StoredTable;
    const conditions: string[] = [];
    if (userIds !== undefined) {
      conditions.push(flavor.inUserList('ac_user_id'));
      params.push(JSON.stringify(userIds));
    }
    if (spec.time_limit !== undefined) {
      conditions.push(`ac_arrival >= ${flavor.param('integer')}`);
      params.push(now - spec.time_limit * 1000);
    }
    if (spec.where && spec.where.length > 0) conditions.push(andAll(spec.where, params, flavor));
    const columns: string[] = Array.from({ length: offsets[index]! }, () => 'NULL');
    columns.push(...table.columns.map((c) => quoteIdentifier(c.name)));
    while (columns.length < width) columns.push('NULL');
    const select = [`${index} AS ac_t`, 'ac_user_id AS ac_u', 'ac_seq AS ac_s', ...columns].join(
      ', ',
    );
    const where = conditions.length > 0 ? ` WHERE ${joinBalanced(conditions, 'AND')}` : '';
    return `SELECT ${select} FROM ${quoteIdentifier(physicalTableName(table.id))}${where}`;
  });
  return { sql: `${arms.join(' UNION ALL ')} ORDER BY ac_u, ac_s`, params, offsets };
}

function andAll(terms: readonly WhereTerm[], params: SqlValue[], flavor: SqlFlavor): string {
  return joinBalanced(
    terms.map((t) => compileTerm(t, params, flavor)),
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

function compileTermOrList(
  value: WhereTerm | WhereTerm[],
  params: SqlValue[],
  flavor: SqlFlavor,
): string {
  return Array.isArray(value) ? andAll(value, params, flavor) : compileTerm(value, params, flavor);
}

function compileTerm(term: WhereTerm, params: SqlValue[], flavor: SqlFlavor): string {
  if ('$or' in term && Array.isArray(term.$or)) {
    return joinBalanced(
      term.$or.map((alt) => compileTermOrList(alt, params, flavor)),
      'OR',
    );
  }
  if ('$not' in term && term.$not !== undefined)
    return `(NOT ${compileTermOrList(term.$not as WhereTerm, params, flavor)})`;
  const parts: string[] = [];
  for (const [key, ops] of Object.entries(
    term as Record<string, Partial<Record<ComparisonOperator, FilterValue>>>,
  )) {
    const column = quoteIdentifier(key.slice(2));
    for (const [op, value] of Object.entries(ops) as Array<[ComparisonOperator, FilterValue]>) {
      parts.push(compileComparison(column, op, value, params, flavor));
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
  flavor: SqlFlavor,
): string {
  if (value === null) return op === '$eq' ? `(${column} IS NULL)` : `(${column} IS NOT NULL)`;
  params.push(typeof value === 'boolean' ? (value ? 1 : 0) : value);
  const param = flavor.param(
    typeof value === 'string' ? 'text' : typeof value === 'boolean' ? 'integer' : 'number',
  );
  if (op === '$eq' || op === '$neq') return flavor.nullSafeEquals(column, param, op === '$neq');
  return flavor.falseIfNull(`${column} ${ORDERING[op]} ${param}`);
}
