// node-sql-parser's AST and the query's text: positions of its nodes, refusals of what is outside the subset, small readings.
import { withArticle, type AppError } from '../../errors/index.ts';
import { positionAt, shown, sqlError } from './sql-errors.ts';
import { USER } from './sql-limits.ts';
import type { Position, SqlCondition, SqlExpr } from './sql-task-model.ts';

/* eslint-disable @typescript-eslint/no-explicit-any -- node-sql-parser's AST is loosely typed */
export type Node = any;

/**
 * Positions in the query. node-sql-parser gives locations for expressions and functions, not for
 * names or clauses, which are found in the text from the nearest located ancestor on.
 */
export class SqlText {
  constructor(readonly text: string) {}

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

  /** Where a name, or `qualifier.name` (either part maybe quoted), is first written from `from` on. */
  nameAt(name: string, from: number, qualifier: string | null = null): Position {
    const quoted = (part: string) => `"?${part.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')}"?`;
    const rest = this.text.slice(from);
    const match =
      (qualifier === null
        ? null
        : new RegExp(`${quoted(qualifier)}\\s*\\.\\s*${quoted(name)}`, 'i').exec(rest)) ??
      new RegExp(quoted(name), 'i').exec(rest);
    return this.pos(match ? from + match.index : from);
  }

  keyword(key: string): Position {
    return this.keywordAt(key.replace('by', ' by').replace('_', ' '));
  }

  /** Where a keyword is first written, outside strings, quoted names and comments (else 0). */
  keywordAt(word: string): Position {
    return this.tokenAt(new RegExp(`\\b${word.split(' ')[0]}\\b`, 'iy'), 0) ?? this.pos(0);
  }

  /**
   * Where `token` (a sticky pattern) first matches from `from` on, outside strings, quoted names
   * and comments: the start of a construct the parser gives no location, such as a subquery.
   */
  tokenAt(token: RegExp, from: number): Position | undefined {
    const text = this.text;
    for (let i = from; i < text.length; i++) {
      const c = text[i]!;
      if (c === "'" || c === '"') {
        const end = text.indexOf(c, i + 1);
        if (end < 0) return undefined;
        i = end;
      } else if (text.startsWith('--', i) || text.startsWith('/*', i)) {
        const end = text.indexOf(c === '-' ? '\n' : '*/', i + 2);
        if (end < 0) return undefined;
        i = end;
      } else {
        token.lastIndex = i;
        if (token.test(text)) return this.pos(i);
      }
    }
    return undefined;
  }

  /**
   * The refusal of a node outside the subset, where it starts. The parser gives no location for
   * a subquery or parameter (nor for a cast, an array...): a subquery or parameter is found in the
   * text from its nearest located ancestor (`parent`) on; where a node cannot be found, the
   * message says that it lies inside that ancestor rather than point at another token.
   */
  unsupported(node: Node, parent: Position): AppError {
    const what = describeNode(node, this.slice(node));
    const subquery = isSubquery(node);
    const parameter = isParameter(node);
    const found = node?.loc
      ? this.locOf(node, parent)
      : subquery || parameter
        ? this.tokenAt(startOf(node), parent.offset)
        : undefined;
    const hint = subquery ? SUBQUERY_HINT : parameter ? PARAMETER_HINT : undefined;
    return this.refuseAt(found, parent, what, hint);
  }

  /** A refusal at `found`, or, where the construct was not found, inside what starts at `parent`. */
  refuseAt(found: Position | undefined, parent: Position, what: string, hint?: string): AppError {
    const refused = `${what} is not supported${hint === undefined ? ' here.' : `: ${hint}`}`;
    if (found) return sqlError(found, refused);
    return sqlError(
      undefined,
      `${refused} It lies inside what starts at line ${parent.line}, column ${parent.column} (the parser gives no closer position).`,
    );
  }

  /** The text of a located node, for messages. */
  slice(node: Node): string | undefined {
    const loc = node?.loc;
    if (!loc || typeof loc.start?.offset !== 'number' || typeof loc.end?.offset !== 'number')
      return undefined;
    return this.text.slice(loc.start.offset, loc.end.offset);
  }
}

/**
 * The terms of a chain of one operator, left to right, without recursion. A parenthesized
 * operand is one term; the chain itself is split even when it is in parentheses, as in
 * "(a OR b) AND c", whose first term is read as a chain of its own.
 */
export function chain(node: Node, op: string): Node[] {
  const terms: Node[] = [];
  const stack: Node[] = [node];
  while (stack.length > 0) {
    const next = stack.pop();
    if (
      next?.type === 'binary_expr' &&
      String(next.operator).toUpperCase() === op &&
      (next === node || !next.parentheses)
    ) {
      stack.push(next.right, next.left);
    } else {
      terms.push(next);
    }
  }
  return terms;
}

export function balanced(terms: SqlCondition[], kind: 'and' | 'or', at: Position): SqlCondition {
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
export function aggregateText(node: Node): string {
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

export function columnName(column: Node): string | undefined {
  if (typeof column === 'string') return column;
  const value = column?.expr?.value ?? column?.value;
  return typeof value === 'string' ? value : undefined;
}

/**
 * Whether a name is the user: `user` unquoted in any case, as SQL folds unquoted names (USER,
 * User), or quoted exactly "user". The parser reads an unquoted USER as a plain name.
 */
export function isUser(column: Node): boolean {
  const name = columnName(column);
  if (name === undefined) return false;
  const quoted = (column?.expr?.type ?? column?.type) === 'double_quote_string';
  return quoted ? name === USER : name.toLowerCase() === USER;
}

export function functionName(node: Node): string {
  const parts: Node[] = node?.name?.name ?? [];
  return parts
    .map((p) => String(p?.value ?? ''))
    .join('.')
    .toLowerCase();
}

/** What a sql task is instead of a subquery, for refusals of one. */
export const SUBQUERY_HINT =
  'a sql task is one SELECT; compare columns with constants in WHERE, or join a table with JOIN ... USING (user).';

const PARAMETER_HINT = 'write the constant itself (the cloak binds every constant as a parameter).';

/** A subquery as node-sql-parser gives it: the inner statement under `ast`, with neither type nor location. */
export function isSubquery(node: Node): boolean {
  return node?.type === undefined && typeof node?.ast === 'object' && node.ast !== null;
}

/** A bound parameter: `$1`, `:name`, or a variable such as `@v`. */
function isParameter(node: Node): boolean {
  return node?.type === 'var' || node?.type === 'param';
}

function parameterText(node: Node): string {
  return node?.type === 'param' ? `:${String(node.value)}` : `${node?.prefix ?? ''}${node?.name}`;
}

/** Where a subquery starts in the text: its parenthesis, before SELECT, WITH or VALUES. */
export const SUBQUERY_START = /\(\s*(?:select|with|values)\b/iy;

/** Where a subquery or parameter starts in the text, as a sticky pattern. */
function startOf(node: Node): RegExp {
  if (!isParameter(node)) return SUBQUERY_START;
  const escaped = parameterText(node).replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
  return new RegExp(`${escaped}(?![\\w$])`, 'y');
}

export function describeNode(node: Node, text: string | undefined): string {
  if (isSubquery(node)) return 'a subquery';
  if (isParameter(node)) return `a parameter (${shown(parameterText(node), 20)})`;
  if (typeof node?.type !== 'string') return text ? `"${shown(text)}"` : 'this construct';
  if (node.type === 'expr_list') return 'a list of values';
  const kind = node.type.replaceAll('_', ' ');
  if (text) return `${kind} "${shown(text)}"`;
  if (kind.toUpperCase() === kind) return kind;
  return withArticle(kind);
}

/**
 * Every value expression in an expression (itself first) or a condition, depth first: the one
 * walk of the model for whatever is asked of it (a column named, the lookup tables read).
 */
export function* expressionsIn(node: SqlExpr | SqlCondition): Generator<SqlExpr, void, undefined> {
  switch (node.kind) {
    case 'and':
    case 'or':
      yield* expressionsIn(node.left);
      return yield* expressionsIn(node.right);
    case 'not':
    case 'truth':
      return yield* expressionsIn(node.arg);
    case 'compare':
    case 'in':
    case 'between':
    case 'is-null':
    case 'is-bool':
    case 'like':
      // The other side is constants.
      return yield* expressionsIn(node.left);
  }
  yield node;
  switch (node.kind) {
    case 'arithmetic':
      yield* expressionsIn(node.left);
      return yield* expressionsIn(node.right);
    case 'negate':
    case 'round':
      return yield* expressionsIn(node.arg);
    case 'extract':
      return yield* expressionsIn(node.source);
    case 'lookup':
      return yield* expressionsIn(node.key);
    case 'case':
      for (const branch of node.branches) {
        yield* expressionsIn(branch.when);
        yield* expressionsIn(branch.then);
      }
      return yield* expressionsIn(node.otherwise);
    case 'simple-case':
      yield* expressionsIn(node.subject);
      for (const branch of node.branches) yield* expressionsIn(branch.then);
      return yield* expressionsIn(node.otherwise);
  }
}

export function mentionsColumn(expr: SqlExpr): boolean {
  for (const inner of expressionsIn(expr)) if (inner.kind === 'column') return true;
  return false;
}

/**
 * The same expression written twice (GROUP BY repeating a SELECT item) gives the same text; with
 * `qualifiers: false`, also where its columns are qualified otherwise (people.city and city).
 */
export function fingerprint(expr: SqlExpr, { qualifiers = true } = {}): string {
  return JSON.stringify(expr, (key, value: unknown) => {
    if (key === 'at') return undefined;
    const column = value as { kind?: string } | null;
    return !qualifiers && column?.kind === 'column' ? { ...column, table: null } : value;
  });
}
