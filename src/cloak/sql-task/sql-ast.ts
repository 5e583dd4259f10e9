// node-sql-parser's AST and the query's text: positions of its nodes, and small readings of them.
import { withArticle } from '../../errors/index.ts';
import { positionAt, shown } from './sql-errors.ts';
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

export function functionName(node: Node): string {
  const parts: Node[] = node?.name?.name ?? [];
  return parts
    .map((p) => String(p?.value ?? ''))
    .join('.')
    .toLowerCase();
}

export function describeNode(node: Node, text: string | undefined): string {
  const kind = String(node?.type ?? 'this construct').replaceAll('_', ' ');
  return text ? `${kind} "${shown(text)}"` : kind.toUpperCase() === kind ? kind : withArticle(kind);
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

/** The same expression written twice (GROUP BY repeating a SELECT item) gives the same text. */
export function fingerprint(expr: SqlExpr): string {
  return JSON.stringify(expr, (key, value) => (key === 'at' ? undefined : value));
}
