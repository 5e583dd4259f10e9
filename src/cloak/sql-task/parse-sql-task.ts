// Parses a sql task with node-sql-parser and checks that it is inside the supported subset.
import vm from 'node:vm';
import sqlParser from 'node-sql-parser/build/postgresql.js';
import { AppError } from '../../errors/index.ts';
import { ExpressionChecker } from './check-expressions.ts';
import {
  aggregateText,
  columnName,
  fingerprint,
  isSubquery,
  isUser,
  mentionsColumn,
  SUBQUERY_HINT,
  SUBQUERY_START,
  type Node,
} from './sql-ast.ts';
import { positionAt, shown, sqlError } from './sql-errors.ts';
import {
  MAX_GROUPS,
  MAX_NESTING,
  MAX_QUERY_LENGTH,
  MAX_TABLES,
  PARSE_TIME_LIMIT_MS,
} from './sql-limits.ts';
import type { Position, SqlExpr, SqlGroup, SqlTableRef, SqlTaskQuery } from './sql-task-model.ts';

export * from './sql-limits.ts';

// PostgreSQL's dialect: standard SQL as analysts write it, with EXTRACT and double-quoted names.
const parser = new sqlParser.Parser();
const PARSE_OPTIONS = { database: 'postgresql', parseOptions: { includeLocations: true } };

/**
 * The query in the subset of docs/sql.md, or an INVALID_SQL_TASK error naming the first construct
 * outside it and its position. Names are not resolved here (that needs the organisation's tables).
 */
export function parseSqlTask(text: string): SqlTaskQuery {
  if (text.length > MAX_QUERY_LENGTH) {
    throw sqlError(
      undefined,
      `the query has ${text.length} characters; at most ${MAX_QUERY_LENGTH} are allowed.`,
    );
  }
  checkNesting(text);
  let ast: Node;
  try {
    ast = parseWithin(text);
  } catch (error) {
    throw syntaxError(text, error);
  }
  return new Checker(text).query(ast);
}

/**
 * The parser backtracks, and a mistake deep inside nested parentheses can cost it time that
 * doubles with each level (10 levels around a bad extract(): seconds). Nesting is capped, and the
 * parse runs under V8's watchdog (vm's timeout), so no query holds the cloak's event loop.
 */
const watchdog = vm.createContext({ parse: () => undefined as unknown });
const callParse = new vm.Script('parse()');

type ParseOutcome = { ast: Node } | { error: unknown };

function parseWithin(text: string): Node {
  // The parser's error comes back as a value: one thrown out of runInContext has its stack
  // formatted on the way (3 ms a syntax error, 14 times the parse itself).
  watchdog.parse = (): ParseOutcome => {
    try {
      return { ast: parser.astify(text, PARSE_OPTIONS) as Node };
    } catch (error) {
      return { error };
    }
  };
  let outcome: ParseOutcome;
  try {
    outcome = callParse.runInContext(watchdog, { timeout: PARSE_TIME_LIMIT_MS }) as ParseOutcome;
  } catch (error) {
    if ((error as { code?: string }).code === 'ERR_SCRIPT_EXECUTION_TIMEOUT') {
      throw sqlError(
        undefined,
        `the query took more than ${PARSE_TIME_LIMIT_MS / 1000} s to parse, which happens around a mistake inside nested parentheses; simplify it or look for the mistake.`,
      );
    }
    throw error;
  } finally {
    watchdog.parse = () => undefined;
  }
  if ('error' in outcome) throw outcome.error;
  return outcome.ast;
}

/** Nesting is checked on the text first, so that no input can exhaust the parser's stack. */
function checkNesting(text: string): void {
  let depth = 0;
  let quote: string | undefined;
  for (let i = 0; i < text.length; i++) {
    const c = text[i]!;
    if (quote) {
      if (c === quote) quote = undefined;
    } else if (c === "'" || c === '"') {
      quote = c;
    } else if (c === '(') {
      if (++depth > MAX_NESTING) {
        throw sqlError(positionAt(text, i), `parentheses nest more than ${MAX_NESTING} deep.`);
      }
    } else if (c === ')') {
      depth = Math.max(0, depth - 1);
    }
  }
}

function syntaxError(text: string, error: unknown): AppError {
  if (error instanceof AppError) return error;
  const e = error as { location?: { start?: { offset?: number } }; found?: unknown };
  const offset = e.location?.start?.offset;
  if (typeof offset !== 'number') {
    // Not the parser's own report (say, a stack overflow): never shown raw to the analyst.
    return sqlError(undefined, 'the query could not be parsed; simplify it.');
  }
  const found = typeof e.found === 'string' ? `"${shown(e.found, 20)}"` : 'the end of the query';
  return sqlError(positionAt(text, offset), `syntax error: unexpected ${found}.`);
}

/** Refusals for clauses that parse but are outside the subset, with what to do instead. */
const CLAUSES: Array<[key: string, present: (v: Node) => boolean, what: string]> = [
  [
    'with',
    (v) => v !== null && v !== undefined,
    'WITH (common table expressions) is not supported',
  ],
  ['having', (v) => v !== null && v !== undefined, 'HAVING is not supported: use WHERE on rows'],
  [
    'orderby',
    (v) => v !== null && v !== undefined,
    // The anonymizer's order (src/anonymizer/anonymize.ts); all of a query's buckets share its label.
    'ORDER BY is not supported; remove it: buckets are published sorted by label, then by their published count (largest first), then by value',
  ],
  ['limit', (v) => Array.isArray(v?.value) && v.value.length > 0, 'LIMIT is not supported'],
  ['window', (v) => v !== null && v !== undefined, 'WINDOW is not supported'],
  [
    'into',
    (v) => v?.position !== null && v?.position !== undefined,
    'SELECT INTO is not supported',
  ],
  ['for_update', (v) => v !== null && v !== undefined, 'FOR UPDATE is not supported'],
];

/** The whole query: statement, clauses, tables, SELECT list and GROUP BY. */
class Checker extends ExpressionChecker {
  query(ast: Node): SqlTaskQuery {
    if (Array.isArray(ast)) {
      if (ast.length !== 1) {
        throw sqlError(
          this.find(';', 0),
          'a sql task is one SELECT statement; remove the ";" and what follows.',
        );
      }
      ast = ast[0];
    }
    if (ast?.type !== 'select') {
      const kind = String(ast?.type ?? 'unknown').toUpperCase();
      throw sqlError(this.pos(0), `${kind} statements are not allowed; a sql task is one SELECT.`);
    }
    for (const [key, present, what] of CLAUSES) {
      if (present(ast[key])) throw sqlError(this.keyword(key), `${what}.`);
    }
    if (ast.distinct?.type)
      throw sqlError(
        this.keyword('distinct'),
        'SELECT DISTINCT is not supported: groups are already distinct.',
      );
    if (ast.options) throw sqlError(this.pos(0), 'SELECT options are not supported.');
    if (ast._next || ast.set_op)
      throw sqlError(this.keyword('union'), 'UNION, INTERSECT and EXCEPT are not supported.');
    const tables = this.from(ast.from);
    const where = ast.where ? this.condition(ast.where, this.keywordAt('where'), 0) : null;
    const { groups, countName, countAt } = this.select(ast.columns);
    this.checkGroupBy(ast.groupby?.columns ?? null, groups, countAt);
    return { tables, groups, where, countName };
  }

  from(from: Node): SqlTableRef[] {
    if (!Array.isArray(from) || from.length === 0) {
      throw sqlError(this.pos(this.text.length), 'FROM <table> is missing.');
    }
    if (from.length > MAX_TABLES) {
      throw sqlError(this.keyword('join'), `at most ${MAX_TABLES} tables may be joined.`);
    }
    const fromAt = this.keywordAt('from').offset;
    return from.map((item: Node, i: number) => {
      const at = this.nameAt(item.table ?? '', fromAt);
      if (isSubquery(item.expr)) {
        const found = this.tokenAt(SUBQUERY_START, fromAt);
        throw this.refuseAt(found, this.pos(fromAt), 'a subquery in FROM', SUBQUERY_HINT);
      }
      if (typeof item.table !== 'string' || item.expr) {
        throw sqlError(at, 'a subquery or function in FROM is not supported; name a table.');
      }
      if (item.db || item.schema) {
        throw sqlError(
          at,
          `"${shown(`${item.db ?? item.schema}.${item.table}`)}": a table is named without a schema or database.`,
        );
      }
      if (i > 0) {
        if (!item.join)
          throw sqlError(
            at,
            `a comma join ("FROM a, b") is not supported; write JOIN ${shown(item.table)} USING (user).`,
          );
        if (item.join !== 'INNER JOIN' && item.join !== 'JOIN') {
          throw sqlError(
            at,
            `${item.join} is not supported; only JOIN ... USING (user), which pairs each user's rows with that user's own rows.`,
          );
        }
        const using = item.using;
        if (item.on || !Array.isArray(using) || using.length !== 1 || !isUser(using[0])) {
          throw sqlError(
            at,
            `JOIN ${shown(item.table)} needs USING (user): tables are joined on the user only.`,
          );
        }
      }
      const alias = typeof item.as === 'string' && item.as !== '' ? item.as : item.table;
      return { table: item.table, alias, at };
    });
  }

  /** The group expressions and the count, with the count's place in the SELECT list (0-based). */
  select(columns: Node): { groups: SqlGroup[]; countName: string; countAt: number } {
    if (!Array.isArray(columns))
      throw sqlError(
        this.pos(0),
        'SELECT * is not supported; select group expressions and count(DISTINCT user).',
      );
    const groups: SqlGroup[] = [];
    let countName: string | undefined;
    let countAt = 0;
    for (const column of columns) {
      const expr = column.expr;
      if (expr?.type === 'column_ref' && expr.column === '*') {
        throw sqlError(
          this.find('*', 0),
          'SELECT * is not supported; select group expressions and count(DISTINCT user).',
        );
      }
      if (expr?.type === 'aggr_func') {
        const at = this.locOf(expr, this.nameAt(String(expr.name), 0));
        if (countName !== undefined) throw sqlError(at, 'select count(DISTINCT user) once.');
        this.checkCount(expr, at);
        countName = typeof column.as === 'string' ? column.as : 'count';
        countAt = groups.length;
        continue;
      }
      const at = this.locOf(expr, this.pos(0));
      if (groups.length >= MAX_GROUPS)
        throw sqlError(at, `at most ${MAX_GROUPS} group expressions are allowed.`);
      const checked = this.expr(expr, at, 0);
      if (!mentionsColumn(checked))
        throw sqlError(
          checked.at,
          'a group expression needs a column; a constant would be the same for every user.',
        );
      groups.push({ name: this.groupName(column, checked), expr: checked, qualifiedAs: [] });
    }
    if (countName === undefined) {
      throw sqlError(
        this.pos(0),
        'the SELECT list needs count(DISTINCT user): a sql task counts distinct users per group.',
      );
    }
    for (const group of groups) this.checkLabel(group.name, group.expr.at);
    const names = new Set<string>();
    for (const group of groups) {
      if (names.has(group.name))
        throw sqlError(
          group.expr.at,
          `two group expressions are both named "${shown(group.name)}"; give one an alias (AS another_name).`,
        );
      names.add(group.name);
    }
    if (groups.length === 0) this.checkLabel(countName, this.pos(0));
    return { groups, countName, countAt };
  }

  checkCount(expr: Node, at: Position): void {
    const args = expr.args ?? {};
    const counted = args.expr;
    const ok =
      String(expr.name).toUpperCase() === 'COUNT' &&
      args.distinct === 'DISTINCT' &&
      counted?.type === 'column_ref' &&
      isUser(counted.column) &&
      !expr.over;
    if (!ok) {
      throw sqlError(
        at,
        `${shown(aggregateText(expr))} is not supported; the one aggregate is count(DISTINCT user), the number of distinct users per group.`,
      );
    }
  }

  /** GROUP BY lists exactly the selected group expressions (by alias, position or expression). */
  checkGroupBy(items: Node[] | null, groups: SqlGroup[], countAt: number): void {
    const at = this.keywordAt('group');
    if (items === null || items.length === 0) {
      if (groups.length > 0)
        throw sqlError(
          this.pos(this.text.length),
          `GROUP BY ${groups.map((g) => g.name).join(', ')} is missing.`,
        );
      return;
    }
    if (groups.length === 0)
      throw sqlError(
        at,
        'GROUP BY needs the grouped expressions in the SELECT list too, so that each bucket names its group.',
      );
    const seen = new Set<number>();
    // Items without a location are found in the text, each after the one before.
    let from = at.offset + 'group by'.length;
    for (const item of items) {
      const name = item?.type === 'column_ref' ? columnName(item.column) : undefined;
      const written = name !== undefined && item.table ? `${item.table}.${name}` : name;
      const itemAt = this.locOf(item, this.groupItemAt(item, name, from) ?? at);
      from = item?.loc?.end?.offset ?? itemAt.offset + 1;
      const index = this.groupIndex(item, groups, countAt, itemAt);
      if (index === undefined) {
        throw sqlError(
          itemAt,
          `GROUP BY ${shown(this.slice(item) ?? written ?? 'item')} is not in the SELECT list; select it as well, so that each bucket names its group.`,
        );
      }
      seen.add(index);
    }
    const missing = groups.filter((_, i) => !seen.has(i));
    if (missing.length > 0) {
      throw sqlError(
        missing[0]!.expr.at,
        `"${shown(missing[0]!.name)}" is selected but not in GROUP BY.`,
      );
    }
  }

  /** Where a GROUP BY item without a location starts: a position, or a (qualified) name. */
  groupItemAt(item: Node, name: string | undefined, from: number): Position | undefined {
    if (item?.type === 'number') {
      const digits = String(item.value).replace('.', '\\.');
      return this.tokenAt(new RegExp(`(?<![\\w.])${digits}(?![\\w.])`, 'y'), from);
    }
    if (name === undefined) return undefined;
    const table = typeof item.table === 'string' && item.table !== '' ? item.table : null;
    return this.nameAt(name, from, table);
  }

  /**
   * The group a GROUP BY item names: by its position in the SELECT list (1-based, as PostgreSQL
   * counts, count(DISTINCT user) included), by name, or as the same expression. An expression
   * whose columns are qualified otherwise than the selected one's (people.city for city) is kept
   * with the group, for the compiler to check that it names the same columns.
   */
  groupIndex(item: Node, groups: SqlGroup[], countAt: number, at: Position): number | undefined {
    if (item?.type === 'number') {
      const n = Number(item.value);
      const items = groups.length + 1;
      const position = shown(String(item.value));
      if (!Number.isInteger(n) || n < 1 || n > items) {
        throw sqlError(
          at,
          `GROUP BY ${position}: a position counts the items of the SELECT list from 1, so it is between 1 and ${items} here.`,
        );
      }
      if (n - 1 === countAt) {
        const others = Array.from({ length: items }, (_, i) => i + 1).filter((i) => i !== n);
        throw sqlError(
          at,
          `GROUP BY ${position} is count(DISTINCT user), an aggregate, which cannot be grouped by; group by the group expressions (${others.join(', ')}).`,
        );
      }
      return n - 1 < countAt ? n - 1 : n - 2;
    }
    if (item?.type === 'column_ref' && !item.table) {
      const name = columnName(item.column);
      const byName = groups.findIndex((g) => g.name === name);
      if (byName >= 0) return byName;
    }
    const expr = this.expr(item, at, 0);
    const exact = groups.findIndex((g) => fingerprint(g.expr) === fingerprint(expr));
    if (exact >= 0) return exact;
    const wanted = fingerprint(expr, { qualifiers: false });
    const index = groups.findIndex((g) => fingerprint(g.expr, { qualifiers: false }) === wanted);
    if (index < 0) return undefined;
    groups[index]!.qualifiedAs.push(expr);
    return index;
  }

  groupName(column: Node, expr: SqlExpr): string {
    if (typeof column.as === 'string' && column.as !== '') return column.as;
    if (expr.kind === 'column') return expr.name;
    // node-sql-parser keeps no text of a CASE; PostgreSQL names it "case" too.
    if (expr.kind === 'case' || expr.kind === 'simple-case') return 'case';
    return shown(this.slice(column.expr) ?? 'group', 200);
  }

  checkLabel(name: string, at: Position): void {
    if (name.includes(': '))
      throw sqlError(
        at,
        `the name "${shown(name)}" contains ": ", which separates label and value in bucket names; choose another alias.`,
      );
  }
}
