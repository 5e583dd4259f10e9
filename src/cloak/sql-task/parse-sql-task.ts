// Parses a sql task with node-sql-parser and checks that it is inside the supported subset.
import vm from 'node:vm';
import sqlParser from 'node-sql-parser/build/postgresql.js';
import { AppError } from '../../errors/index.ts';
import { positionAt, shown, sqlError } from './sql-errors.ts';
import {
  DATE_PARTS,
  type CompareOp,
  type DatePart,
  type Position,
  type SqlCondition,
  type SqlExpr,
  type SqlGroup,
  type SqlTableRef,
  type SqlTaskQuery,
} from './sql-task-model.ts';

/** Longer queries are refused before parsing: the parser's time grows with the text. */
export const MAX_QUERY_LENGTH = 20_000;
/** Parentheses and expressions nest at most this deep (the parser and compiler recurse). */
export const MAX_NESTING = 16;
/** Values in one IN list; longer lists are a lookup table's job. */
export const MAX_IN_VALUES = 1000;
export const MAX_GROUPS = 8;
export const MAX_TABLES = 4;
/** The name that means "the user" in count(DISTINCT user) and USING (user). */
export const USER = 'user';

// PostgreSQL's dialect: standard SQL as analysts write it, with EXTRACT and double-quoted names.
const parser = new sqlParser.Parser();
const PARSE_OPTIONS = { database: 'postgresql', parseOptions: { includeLocations: true } };

/* eslint-disable @typescript-eslint/no-explicit-any -- node-sql-parser's AST is loosely typed */
type Node = any;

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
export const PARSE_TIME_LIMIT_MS = 1000;
const watchdog = vm.createContext({ parse: () => undefined as unknown });
const callParse = new vm.Script('parse()');

function parseWithin(text: string): Node {
  watchdog.parse = () => parser.astify(text, PARSE_OPTIONS);
  try {
    return callParse.runInContext(watchdog, { timeout: PARSE_TIME_LIMIT_MS });
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

const COMPARE: Record<string, CompareOp> = {
  '=': '=',
  '<>': '<>',
  '!=': '<>',
  '<': '<',
  '<=': '<=',
  '>': '>',
  '>=': '>=',
};

const ARITHMETIC = new Set(['+', '-', '*', '/']);

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
    'ORDER BY is not supported: results are sorted by label',
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

class Checker {
  constructor(private readonly text: string) {}

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
    const { groups, countName } = this.select(ast.columns);
    this.checkGroupBy(ast.groupby?.columns ?? null, groups);
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
        if (
          item.on ||
          !Array.isArray(using) ||
          using.length !== 1 ||
          columnName(using[0]) !== USER
        ) {
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

  select(columns: Node): { groups: SqlGroup[]; countName: string } {
    if (!Array.isArray(columns))
      throw sqlError(
        this.pos(0),
        'SELECT * is not supported; select group expressions and count(DISTINCT user).',
      );
    const groups: SqlGroup[] = [];
    let countName: string | undefined;
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
        continue;
      }
      const at = this.locOf(expr, this.pos(0));
      if (groups.length >= MAX_GROUPS)
        throw sqlError(at, `at most ${MAX_GROUPS} group expressions are allowed.`);
      const checked = this.expr(expr, at, 0);
      if (!mentionsColumn(checked))
        throw sqlError(
          at,
          'a group expression needs a column; a constant would be the same for every user.',
        );
      groups.push({ name: this.groupName(column, checked), expr: checked });
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
    return { groups, countName };
  }

  checkCount(expr: Node, at: Position): void {
    const args = expr.args ?? {};
    const counted = args.expr;
    const ok =
      String(expr.name).toUpperCase() === 'COUNT' &&
      args.distinct === 'DISTINCT' &&
      counted?.type === 'column_ref' &&
      columnName(counted.column) === USER &&
      !expr.over;
    if (!ok) {
      throw sqlError(
        at,
        `${shown(aggregateText(expr))} is not supported; the one aggregate is count(DISTINCT user), the number of distinct users per group.`,
      );
    }
  }

  /** GROUP BY lists exactly the selected group expressions (by alias, position or expression). */
  checkGroupBy(items: Node[] | null, groups: SqlGroup[]): void {
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
    for (const item of items) {
      const name = item?.type === 'column_ref' ? columnName(item.column) : undefined;
      const itemAt = this.locOf(item, name ? this.nameAt(name, at.offset + 'group by'.length) : at);
      const index = this.groupIndex(item, groups, itemAt);
      if (index === undefined) {
        throw sqlError(
          itemAt,
          `GROUP BY ${shown(this.slice(item) ?? name ?? 'item')} is not in the SELECT list; select it as well, so that each bucket names its group.`,
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

  groupIndex(item: Node, groups: SqlGroup[], at: Position): number | undefined {
    if (item?.type === 'number') {
      const n = Number(item.value);
      if (!Number.isInteger(n) || n < 1 || n > groups.length) {
        throw sqlError(
          at,
          `GROUP BY ${shown(String(item.value))}: a position must be between 1 and ${groups.length}, the group expressions' places in the SELECT list (count(DISTINCT user) last).`,
        );
      }
      return n - 1;
    }
    if (item?.type === 'column_ref' && !item.table) {
      const name = columnName(item.column);
      const byName = groups.findIndex((g) => g.name === name);
      if (byName >= 0) return byName;
    }
    const wanted = fingerprint(this.expr(item, at, 0));
    const index = groups.findIndex((g) => fingerprint(g.expr) === wanted);
    return index >= 0 ? index : undefined;
  }

  groupName(column: Node, expr: SqlExpr): string {
    if (typeof column.as === 'string' && column.as !== '') return column.as;
    if (expr.kind === 'column') return expr.name;
    return shown(this.slice(column.expr) ?? 'group', 200);
  }

  checkLabel(name: string, at: Position): void {
    if (name.includes(': '))
      throw sqlError(
        at,
        `the name "${shown(name)}" contains ": ", which separates label and value in bucket names; choose another alias.`,
      );
  }

  expr(node: Node, parent: Position, depth: number): SqlExpr {
    if (depth > MAX_NESTING)
      throw sqlError(parent, `the expression nests more than ${MAX_NESTING} deep.`);
    const at = this.locOf(node, parent);
    switch (node?.type) {
      case 'column_ref': {
        const name = columnName(node.column);
        if (name === undefined) throw sqlError(at, 'this column reference is not supported.');
        const table = typeof node.table === 'string' && node.table !== '' ? node.table : null;
        const named = node.loc ? at : this.nameAt(name, parent.offset);
        if (name === USER) {
          throw sqlError(
            named,
            '"user" is the user and may only appear in count(DISTINCT user) and USING (user); grouping or filtering by the user would publish single users.',
          );
        }
        return { kind: 'column', table, name, at: named };
      }
      case 'number': {
        const value = Number(node.value);
        const here = node.loc ? at : this.find(String(node.value), parent.offset);
        if (!Number.isFinite(value))
          throw sqlError(here, `the number ${shown(String(node.value))} is not a finite number.`);
        return { kind: 'number', value, at: here };
      }
      case 'single_quote_string': {
        // Constants carry no location: the first spelling of this one from the parent on.
        const here = node.loc ? at : this.find(`'${String(node.value)}'`, parent.offset);
        return { kind: 'string', value: String(node.value).replaceAll("''", "'"), at: here };
      }
      case 'bool':
        return { kind: 'boolean', value: node.value === true, at };
      case 'null':
        return { kind: 'null', at };
      case 'binary_expr': {
        if (!ARITHMETIC.has(node.operator)) {
          throw sqlError(
            at,
            `the operator ${shown(String(node.operator))} is not allowed in a value; values use + - * / and floor, ceil, extract, lookup.`,
          );
        }
        return {
          kind: 'arithmetic',
          op: node.operator,
          left: this.expr(node.left, at, depth + 1),
          right: this.expr(node.right, at, depth + 1),
          at,
        };
      }
      case 'unary_expr':
        if (node.operator === '-')
          return { kind: 'negate', arg: this.expr(node.expr, at, depth + 1), at };
        if (node.operator === '+') return this.expr(node.expr, at, depth + 1);
        break;
      case 'function':
        return this.call(node, at, depth);
      case 'extract': {
        const field = String(node.args?.field ?? '').toLowerCase();
        if (!(DATE_PARTS as readonly string[]).includes(field)) {
          throw sqlError(
            at,
            `extract(${shown(field)} FROM ...) is not supported; use one of ${DATE_PARTS.join(', ')}.`,
          );
        }
        if (node.args?.cast_type)
          throw sqlError(at, 'extract takes a column of seconds since 1970, without a type.');
        return {
          kind: 'extract',
          field: field as DatePart,
          source: this.expr(node.args?.source, at, depth + 1),
          at,
        };
      }
      case 'aggr_func':
        throw sqlError(
          at,
          `${shown(aggregateText(node))}: aggregates other than one count(DISTINCT user) in the SELECT list are not supported.`,
        );
    }
    throw sqlError(
      at,
      `${describeNode(node, this.slice(node))} is not supported here; see docs/sql.md for the subset.`,
    );
  }

  call(node: Node, at: Position, depth: number): SqlExpr {
    const name = functionName(node);
    const args: Node[] = node.args?.value ?? [];
    if (node.over)
      throw sqlError(at, `window functions (${shown(name)} OVER ...) are not supported.`);
    if ((name === 'floor' || name === 'ceil' || name === 'ceiling') && args.length === 1) {
      return {
        kind: 'round',
        fn: name === 'floor' ? 'floor' : 'ceil',
        arg: this.expr(args[0], at, depth + 1),
        at,
      };
    }
    if (name === 'lookup' && args.length === 2) {
      const table = args[0];
      if (table?.type !== 'single_quote_string')
        throw sqlError(
          at,
          "lookup takes the lookup table's name as a string first: lookup('table', column).",
        );
      return {
        kind: 'lookup',
        table: String(table.value).replaceAll("''", "'"),
        key: this.expr(args[1], at, depth + 1),
        at,
      };
    }
    if (name === 'not') throw sqlError(at, 'NOT is a condition; it belongs in WHERE.');
    throw sqlError(
      at,
      `the function ${shown(name)}(...) with ${args.length} argument${args.length === 1 ? '' : 's'} is not supported; use floor(x), ceil(x), extract(part FROM x) or lookup('table', x).`,
    );
  }

  condition(node: Node, parent: Position, depth: number): SqlCondition {
    if (depth > MAX_NESTING)
      throw sqlError(parent, `the condition nests more than ${MAX_NESTING} deep.`);
    const at = this.locOf(node, parent);
    if (node?.type === 'unary_expr' && String(node.operator).toUpperCase() === 'NOT') {
      return { kind: 'not', arg: this.condition(node.expr, at, depth + 1), at };
    }
    if (
      node?.type === 'function' &&
      functionName(node) === 'not' &&
      node.args?.value?.length === 1
    ) {
      return { kind: 'not', arg: this.condition(node.args.value[0], at, depth + 1), at };
    }
    if (node?.type !== 'binary_expr') {
      const expr = this.expr(node, at, depth + 1);
      return { kind: 'truth', arg: expr, at };
    }
    const op = String(node.operator).toUpperCase();
    if (op === 'AND' || op === 'OR') {
      // A chain "a OR b OR c ..." is one level, however long: a balanced tree of its terms.
      const terms = chain(node, op).map((term) => this.condition(term, at, depth + 1));
      return balanced(terms, op === 'AND' ? 'and' : 'or', at);
    }
    const left = this.expr(node.left, at, depth + 1);
    if (op === 'IS' || op === 'IS NOT') {
      if (node.right?.type !== 'null') throw sqlError(at, `${op} is supported only as ${op} NULL.`);
      return { kind: 'is-null', negated: op === 'IS NOT', left, at };
    }
    if (op === 'IN' || op === 'NOT IN') {
      const values: Node[] = node.right?.type === 'expr_list' ? node.right.value : [];
      if (values.length === 0)
        throw sqlError(at, `${op} takes a list of constants: x ${op} (1, 2, 3).`);
      if (values.length > MAX_IN_VALUES) {
        throw sqlError(
          at,
          `the ${op} list has ${values.length} values; at most ${MAX_IN_VALUES} are allowed (use a lookup table for longer lists).`,
        );
      }
      return {
        kind: 'in',
        negated: op === 'NOT IN',
        left,
        values: values.map((v) => this.constant(v, at)),
        at,
      };
    }
    if (op === 'BETWEEN' || op === 'NOT BETWEEN') {
      const [low, high] = node.right?.value ?? [];
      return {
        kind: 'between',
        negated: op === 'NOT BETWEEN',
        left,
        low: this.constant(low, at),
        high: this.constant(high, at),
        at,
      };
    }
    const compare = COMPARE[op];
    if (compare === undefined) {
      throw sqlError(
        at,
        `the operator ${shown(op)} is not supported in conditions; use = <> < <= > >= IN BETWEEN IS NULL with AND, OR, NOT.`,
      );
    }
    const right = this.constant(node.right, at);
    if (right.kind === 'null')
      throw sqlError(at, `"${op} NULL" is never true in SQL; write IS NULL or IS NOT NULL.`);
    return { kind: 'compare', op: compare, left, right, at };
  }

  /** A constant on the right of a comparison: a number (maybe negative), string or boolean. */
  constant(node: Node, parent: Position): SqlExpr {
    const expr = this.expr(node, parent, 0);
    if (expr.kind === 'negate' && expr.arg.kind === 'number')
      return { kind: 'number', value: -expr.arg.value, at: expr.at };
    if (
      expr.kind === 'number' ||
      expr.kind === 'string' ||
      expr.kind === 'boolean' ||
      expr.kind === 'null'
    )
      return expr;
    throw sqlError(
      expr.at,
      'a condition compares an expression with constants; put the column on the left and a number, string, TRUE or FALSE on the right.',
    );
  }

  // Positions. node-sql-parser gives locations for expressions and functions, not for names or
  // clauses, which are found in the text from the nearest located ancestor on.

  locOf(node: Node, fallback: Position): Position {
    const start = node?.loc?.start;
    return start && typeof start.offset === 'number'
      ? positionAt(this.text, start.offset)
      : fallback;
  }

  pos(offset: number): Position {
    return positionAt(this.text, offset);
  }

  find(needle: string, from: number): Position {
    const i = this.text.indexOf(needle, from);
    return this.pos(i >= 0 ? i : from);
  }

  nameAt(name: string, from: number): Position {
    const escaped = name.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
    const match = new RegExp(`"?${escaped}"?`, 'i').exec(this.text.slice(from));
    return this.pos(match ? from + match.index : from);
  }

  keyword(key: string): Position {
    return this.keywordAt(key.replace('by', ' by').replace('_', ' '));
  }

  keywordAt(word: string): Position {
    const match = new RegExp(`\\b${word.split(' ')[0]}\\b`, 'i').exec(this.text);
    return this.pos(match ? match.index : 0);
  }

  /** The text of a located node, for messages. */
  slice(node: Node): string | undefined {
    const loc = node?.loc;
    if (!loc || typeof loc.start?.offset !== 'number' || typeof loc.end?.offset !== 'number')
      return undefined;
    return this.text.slice(loc.start.offset, loc.end.offset);
  }
}

/** The terms of a chain of one operator, left to right, without recursion. */
function chain(node: Node, op: string): Node[] {
  const terms: Node[] = [];
  const stack: Node[] = [node];
  while (stack.length > 0) {
    const next = stack.pop();
    if (
      next?.type === 'binary_expr' &&
      String(next.operator).toUpperCase() === op &&
      !next.parentheses
    ) {
      stack.push(next.right, next.left);
    } else {
      terms.push(next);
    }
  }
  return terms;
}

function balanced(terms: SqlCondition[], kind: 'and' | 'or', at: Position): SqlCondition {
  if (terms.length === 1) return terms[0]!;
  const middle = Math.ceil(terms.length / 2);
  return {
    kind,
    left: balanced(terms.slice(0, middle), kind, at),
    right: balanced(terms.slice(middle), kind, at),
    at,
  };
}

/** How an aggregate reads in a message: count(*), sum(amount), count(DISTINCT city). */
function aggregateText(node: Node): string {
  const arg = node?.args?.expr;
  const inner =
    arg?.type === 'star'
      ? '*'
      : arg?.type === 'column_ref'
        ? (columnName(arg.column) ?? '...')
        : '...';
  const distinct = node?.args?.distinct ? 'DISTINCT ' : '';
  return `${String(node?.name ?? 'aggregate').toLowerCase()}(${distinct}${inner})`;
}

function columnName(column: Node): string | undefined {
  if (typeof column === 'string') return column;
  const value = column?.expr?.value ?? column?.value;
  return typeof value === 'string' ? value : undefined;
}

function functionName(node: Node): string {
  const parts: Node[] = node?.name?.name ?? [];
  return parts
    .map((p) => String(p?.value ?? ''))
    .join('.')
    .toLowerCase();
}

function describeNode(node: Node, text: string | undefined): string {
  const kind = String(node?.type ?? 'this construct').replaceAll('_', ' ');
  return text ? `${kind} "${shown(text)}"` : kind.toUpperCase() === kind ? kind : `a ${kind}`;
}

function mentionsColumn(expr: SqlExpr): boolean {
  switch (expr.kind) {
    case 'column':
      return true;
    case 'arithmetic':
      return mentionsColumn(expr.left) || mentionsColumn(expr.right);
    case 'negate':
    case 'round':
      return mentionsColumn(expr.arg);
    case 'extract':
      return mentionsColumn(expr.source);
    case 'lookup':
      return mentionsColumn(expr.key);
    default:
      return false;
  }
}

/** The same expression written twice (GROUP BY repeating a SELECT item) gives the same text. */
function fingerprint(expr: SqlExpr): string {
  return JSON.stringify(expr, (key, value) => (key === 'at' ? undefined : value));
}
