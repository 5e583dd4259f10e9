// Compiles a checked sql task to one query (SQLite or PostgreSQL) over an organisation's own physical tables.
import type { ColumnType } from '../../shared/index.ts';
import { expressionsIn } from '../sql-task/sql-ast.ts';
import { shown, sqlError } from '../sql-task/sql-errors.ts';
import type { Position, SqlCondition, SqlExpr, SqlTaskQuery } from '../sql-task/sql-task-model.ts';
import { listNames, quoteIdentifier } from './names.ts';
import type { SqlValue } from './row-validation.ts';
import { SQLITE_FLAVOR, type ParamKind, type SqlFlavor } from './sql-dialect.ts';
import { physicalTableName, type StoredTable } from './table-catalogue.ts';

/** What the compiler may know of the organisation: nothing of any other organisation. */
export interface SqlScope {
  table(name: string): StoredTable | undefined;
  tableNames(): string[];
  lookupId(name: string): number | undefined;
  lookupNames(): string[];
}

/** How a group's cells become bucket values, as String() of the task's value would. */
export type GroupFormat = 'plain' | 'boolean';

/**
 * One query over the tables named in FROM and JOIN, users in user-id order; identifiers come from
 * the catalogue and are quoted, every constant is a parameter. Its rows have one of two shapes
 * (`rows`): `group`, one row per (user, group), [user id, one cell per group expression], and so
 * one row per user without groups; `user` (SQLite, with groups), one row per user, [user id, JSON
 * array of the user's distinct groups in the order `group` gives them], each group its one cell
 * or, with several group expressions, an array of them.
 */
export interface CompiledSqlTask {
  sql: string;
  params: SqlValue[];
  rows: 'user' | 'group';
  /** The tables read, by their names in the organisation (the run's prefetch, for progress). */
  tables: string[];
  /** The bucket label: the group names joined by ", ", or the count's name without groups. */
  label: string;
  formats: GroupFormat[];
}

type ValueType = 'number' | 'text' | 'boolean' | 'null';

/** 0001-01-01T00:00:00Z and 9999-12-31T23:59:59Z in seconds: the dates both stores read alike. */
const FIRST_SECOND = -62_135_596_800;
const LAST_SECOND = 253_402_300_799;

export function compileSqlTask(
  query: SqlTaskQuery,
  scope: SqlScope,
  /** Only these users (streaming tasks and tests); all the organisation's users otherwise. */
  userIds?: readonly string[],
  flavor: SqlFlavor = SQLITE_FLAVOR,
): CompiledSqlTask {
  return new Compiler(query, scope, flavor).compile(userIds);
}

interface Bound {
  alias: string;
  table: StoredTable;
  ref: string;
}

class Compiler {
  readonly params: SqlValue[] = [];
  readonly bound: Bound[];

  constructor(
    private readonly query: SqlTaskQuery,
    private readonly scope: SqlScope,
    private readonly flavor: SqlFlavor,
  ) {
    const aliases = new Set<string>();
    this.bound = query.tables.map((ref, i) => {
      const table = scope.table(ref.table);
      if (!table) {
        throw sqlError(
          ref.at,
          `there is no table named "${shown(ref.table)}" (tables: ${listNames(scope.tableNames())}).`,
        );
      }
      if (aliases.has(ref.alias))
        throw sqlError(
          ref.at,
          `the name "${shown(ref.alias)}" is used for two tables; give one an alias (JOIN t AS t2 USING (user)).`,
        );
      aliases.add(ref.alias);
      return { alias: ref.alias, table, ref: `t${i}` };
    });
  }

  compile(userIds?: readonly string[]): CompiledSqlTask {
    const { groups, where } = this.query;
    const cells = groups.map((g) => this.value(g.expr));
    for (const group of groups)
      for (const spelling of group.qualifiedAs) this.sameColumns(group.expr, spelling);
    const formats = cells.map((c): GroupFormat => (c.type === 'boolean' ? 'boolean' : 'plain'));
    const conditions: string[] = [];
    if (userIds !== undefined) {
      conditions.push(this.flavor.inUserList('t0.ac_user_id'));
      this.params.push(JSON.stringify(userIds));
    }
    if (where) conditions.push(this.condition(where));
    const from = this.bound
      .map(({ table, ref }, i) => {
        const physical = `${quoteIdentifier(physicalTableName(table.id))} AS ${ref}`;
        return i === 0 ? physical : `JOIN ${physical} ON ${ref}.ac_user_id = t0.ac_user_id`;
      })
      .join(' ');
    const filter = conditions.length > 0 ? ` WHERE ${conditions.join(' AND ')}` : '';
    const perUser = this.flavor.groupsAsJson && cells.length > 0;
    const select = ['t0.ac_user_id', ...cells.map((c) => c.sql)].join(', ');
    let sql: string;
    if (perUser) {
      const named = ['t0.ac_user_id', ...cells.map((c, i) => `${c.sql} AS g${i}`)].join(', ');
      sql = userGroupsSql(cells.length, `SELECT ${named} FROM ${from}${filter}`);
    } else {
      // The database finds each user's distinct groups; only those cross into JavaScript.
      const groupBy = ['t0.ac_user_id', ...cells.map((_, i) => String(i + 2))].join(', ');
      sql = `SELECT ${select} FROM ${from}${filter} GROUP BY ${groupBy} ORDER BY t0.ac_user_id`;
    }
    return {
      sql,
      params: this.params,
      rows: perUser ? 'user' : 'group',
      tables: [...new Set(this.bound.map((b) => b.table.name))],
      label: groups.length > 0 ? groups.map((g) => g.name).join(', ') : this.query.countName,
      formats,
    };
  }

  column(expr: Extract<SqlExpr, { kind: 'column' }>): {
    sql: string;
    type: ValueType;
    column: ColumnType;
    /** The alias of the table it is read from. */
    table: string;
  } {
    const candidates =
      expr.table === null ? this.bound : this.bound.filter((b) => b.alias === expr.table);
    if (expr.table !== null && candidates.length === 0) {
      const renamed = this.bound.find((b) => b.table.name === expr.table);
      if (renamed)
        throw sqlError(
          expr.at,
          `the table "${shown(expr.table)}" is named ${shown(renamed.alias)} in this query; write ${shown(`${renamed.alias}.${expr.name}`)}.`,
        );
      throw sqlError(
        expr.at,
        `"${shown(expr.table)}" is not a table of this query (${this.bound.map((b) => b.alias).join(', ')}).`,
      );
    }
    const found = candidates.filter((b) => b.table.columns.some((c) => c.name === expr.name));
    if (found.length > 1) {
      throw sqlError(
        expr.at,
        `the column "${shown(expr.name)}" is in several tables; qualify it (${found.map((b) => `${b.alias}.${expr.name}`).join(' or ')}).`,
      );
    }
    const owner = found[0];
    if (!owner) {
      const known = candidates.flatMap((b) => b.table.columns.map((c) => c.name));
      throw sqlError(
        expr.at,
        `${expr.table === null ? 'no table of this query has' : `"${shown(expr.table)}" has no`} column "${shown(expr.name)}" (columns: ${listNames(known)}).`,
      );
    }
    const column = owner.table.columns.find((c) => c.name === expr.name)!;
    return {
      sql: `${owner.ref}.${quoteIdentifier(column.name)}`,
      type: valueType(column.type),
      column: column.type,
      table: owner.alias,
    };
  }

  /**
   * GROUP BY's spelling of a selected expression with its columns qualified otherwise
   * (people.city for city) must name the same columns: each qualifier a table of the query, and
   * each column the one the selected expression reads.
   */
  sameColumns(selected: SqlExpr, grouped: SqlExpr): void {
    const theirs = [...expressionsIn(grouped)];
    [...expressionsIn(selected)].forEach((mine, i) => {
      const other = theirs[i];
      if (mine.kind !== 'column' || other?.kind !== 'column') return;
      const [one, two] = [this.column(mine), this.column(other)];
      if (one.sql === two.sql) return;
      const selected = mine.table === null ? ` (${one.table}.${mine.name})` : '';
      throw sqlError(
        other.at,
        `GROUP BY ${shown(qualified(other))} is another column than the selected ${shown(qualified(mine))}${shown(selected)}; group by what is selected.`,
      );
    });
  }

  value(expr: SqlExpr): { sql: string; type: ValueType } {
    switch (expr.kind) {
      case 'column':
        return this.column(expr);
      case 'number':
        return { sql: this.param(expr.value, 'number'), type: 'number' };
      case 'string':
        return { sql: this.param(expr.value, 'text'), type: 'text' };
      case 'boolean':
        return { sql: this.param(expr.value ? 1 : 0, 'integer'), type: 'boolean' };
      case 'null':
        return { sql: 'NULL', type: 'null' };
      case 'negate':
        return { sql: `(-${this.numeric(expr.arg, 'a minus sign')})`, type: 'number' };
      case 'round':
        return { sql: `${expr.fn}(${this.numeric(expr.arg, `${expr.fn}(...)`)})`, type: 'number' };
      case 'arithmetic': {
        const left = this.numeric(expr.left, `"${expr.op}"`);
        if (expr.op !== '/')
          return {
            sql: `(${left} ${expr.op} ${this.numeric(expr.right, `"${expr.op}"`)})`,
            type: 'number',
          };
        if (expr.right.kind !== 'number' || expr.right.value === 0) {
          throw sqlError(
            expr.right.at,
            'divide by a non-zero number constant, as in floor(x / 10) * 10.',
          );
        }
        // Real division, as in a JavaScript task.
        return {
          sql: this.flavor.divide(left, this.param(expr.right.value, 'number')),
          type: 'number',
        };
      }
      case 'extract': {
        const seconds = this.numeric(expr.source, `extract(${expr.field} FROM ...)`);
        // Fractions of a second are dropped first, as to_date() does. Outside years 1 to 9999
        // the stores disagree (SQLite has no date past 9999, PostgreSQL no year 0 and an error
        // far out), so there the part is NULL in both.
        const inRange = this.flavor.within(`floor(${seconds})`, FIRST_SECOND, LAST_SECOND);
        return { sql: this.flavor.datePart(expr.field, inRange), type: 'number' };
      }
      case 'lookup': {
        const id = this.scope.lookupId(expr.table);
        if (id === undefined) {
          throw sqlError(
            expr.at,
            `there is no lookup table named "${shown(expr.table)}" (lookup tables: ${listNames(this.scope.lookupNames())}).`,
          );
        }
        if (expr.key.kind !== 'column')
          throw sqlError(expr.key.at, "lookup's key is a column: lookup('table', column).");
        const key = this.column(expr.key);
        if (key.type === 'boolean' || key.column === 'float' || key.column === 'double') {
          throw sqlError(
            expr.key.at,
            `a lookup key is a text, integer or bigint column; "${shown(expr.key.name)}" is ${key.column}.`,
          );
        }
        return {
          sql: `(SELECT ${this.flavor.byCodePoint('value')} FROM data_lookup_entries WHERE lookup_id = ${this.param(id, 'integer')} AND key = CAST(${key.sql} AS TEXT))`,
          type: 'text',
        };
      }
      case 'case':
      case 'simple-case':
        return this.caseValue(expr);
    }
  }

  /** A CASE's value; its results share one type (NULL goes with any). */
  caseValue(expr: Extract<SqlExpr, { kind: 'case' | 'simple-case' }>): {
    sql: string;
    type: ValueType;
  } {
    // In the text's order, which is the order of its parameters.
    const whens: string[] = [];
    const compiled: Array<{ expr: SqlExpr; sql: string; type: ValueType }> = [];
    const subject =
      expr.kind === 'simple-case' ? { expr: expr.subject, ...this.value(expr.subject) } : undefined;
    for (const branch of expr.branches) {
      // A simple CASE's WHEN is a constant of its subject's type, a searched one's a condition.
      const when =
        'value' in branch
          ? this.constant(branch.value, subject!.type, subject!.expr)
          : this.condition(branch.when);
      const then = { expr: branch.then, ...this.value(branch.then) };
      whens.push(`WHEN ${when} THEN ${then.sql}`);
      compiled.push(then);
    }
    const head = subject ? `CASE ${subject.sql}` : 'CASE';
    compiled.push({ expr: expr.otherwise, ...this.value(expr.otherwise) });
    const typed = compiled.filter((c) => c.type !== 'null');
    const type = typed[0]?.type ?? 'null';
    const other = typed.find((c) => c.type !== type);
    if (other) {
      throw sqlError(
        other.expr.at,
        `the CASE's results must have one type: ${describeExpr(typed[0]!.expr)} is ${type}, ${describeExpr(other.expr)} is ${other.type}.`,
      );
    }
    return { sql: `(${head} ${whens.join(' ')} ELSE ${compiled.at(-1)!.sql} END)`, type };
  }

  numeric(expr: SqlExpr, where: string): string {
    const { sql, type } = this.value(expr);
    if (type !== 'number')
      throw sqlError(expr.at, `${where} needs a number; ${describeExpr(expr)} is ${type}.`);
    return sql;
  }

  condition(cond: SqlCondition): string {
    switch (cond.kind) {
      case 'and':
      case 'or':
        return `(${this.condition(cond.left)} ${cond.kind.toUpperCase()} ${this.condition(cond.right)})`;
      case 'not':
        return `(NOT ${this.condition(cond.arg)})`;
      case 'truth': {
        const { sql, type } = this.value(cond.arg);
        if (type !== 'boolean')
          throw sqlError(
            cond.at,
            `${describeExpr(cond.arg)} is not a condition; compare it with a constant (=, <, IN, ...).`,
          );
        return `(${sql} = 1)`;
      }
      case 'is-null':
        return `(${this.value(cond.left).sql} IS ${cond.negated ? 'NOT ' : ''}NULL)`;
      case 'is-bool': {
        const left = this.value(cond.left);
        if (left.type !== 'boolean') {
          throw sqlError(
            cond.left.at,
            `IS TRUE and IS FALSE test a boolean; ${describeExpr(cond.left)} is ${left.type}.`,
          );
        }
        const param = this.param(cond.value ? 1 : 0, 'integer');
        return this.flavor.nullSafeEquals(left.sql, param, cond.negated);
      }
      case 'compare': {
        const left = this.value(cond.left);
        return `(${left.sql} ${cond.op} ${this.constant(cond.right, left.type, cond.left)})`;
      }
      case 'like': {
        const left = this.value(cond.left);
        if (left.type !== 'text') {
          throw sqlError(
            cond.left.at,
            `LIKE matches text; ${describeExpr(cond.left)} is ${left.type}.`,
          );
        }
        const pattern = this.param(this.flavor.likePattern(cond.pattern), 'text');
        return this.flavor.like(left.sql, pattern, cond.negated);
      }
      case 'in': {
        const left = this.value(cond.left);
        const list = cond.values.map((v) => this.constant(v, left.type, cond.left)).join(', ');
        return `(${left.sql} ${cond.negated ? 'NOT IN' : 'IN'} (${list}))`;
      }
      case 'between': {
        const left = this.value(cond.left);
        const low = this.constant(cond.low, left.type, cond.left);
        const high = this.constant(cond.high, left.type, cond.left);
        return `(${left.sql} ${cond.negated ? 'NOT BETWEEN' : 'BETWEEN'} ${low} AND ${high})`;
      }
    }
  }

  /** A constant compared with a value of type `type`: SQLite would otherwise compare across types. */
  constant(expr: SqlExpr, type: ValueType, against: SqlExpr): string {
    const { sql, type: own } = this.value(expr);
    if (own === 'null') throw sqlError(expr.at, 'compare with NULL using IS NULL or IS NOT NULL.');
    if (own !== type) {
      throw sqlError(
        expr.at,
        `${describeExpr(against)} is ${type}, so compare it with a ${type === 'text' ? 'string' : type} constant, not a ${own === 'text' ? 'string' : own}.`,
      );
    }
    return sql;
  }

  param(value: SqlValue, kind: ParamKind): string {
    this.params.push(value);
    return this.flavor.param(kind);
  }
}

/**
 * One row per user: SQLite reads each user's rows in key order and joins their distinct groups
 * into one JSON array, so a user's groups cross into JavaScript as one value rather than one row
 * each. The array keeps the order of the row-per-group query (groups sorted as GROUP BY sorts
 * them), and JSON keeps every value exactly: reals are written with enough digits to read back
 * the same double, and texts are escaped. `source` selects the user id and the cells g0, g1...
 */
function userGroupsSql(cells: number, source: string): string {
  const names = Array.from({ length: cells }, (_, i) => `g${i}`);
  const group = cells === 1 ? names[0]! : `json_array(${names.join(', ')})`;
  return (
    `SELECT ac_user_id, json_group_array(DISTINCT ${group} ORDER BY ${names.join(', ')}) ` +
    `FROM (${source}) GROUP BY ac_user_id ORDER BY ac_user_id`
  );
}

function valueType(type: ColumnType): ValueType {
  if (type === 'boolean') return 'boolean';
  if (type === 'text' || type.startsWith('varchar(')) return 'text';
  return 'number';
}

function qualified(column: Extract<SqlExpr, { kind: 'column' }>): string {
  return column.table === null ? column.name : `${column.table}.${column.name}`;
}

function describeExpr(expr: SqlExpr): string {
  return expr.kind === 'column'
    ? `"${shown(expr.name)}"`
    : `the ${expr.kind} at line ${(expr.at as Position).line}, column ${expr.at.column}`;
}
