// The value expressions and row conditions of a sql task, checked against the subset.
import { shown, sqlError } from './sql-errors.ts';
import {
  MAX_CASE_BRANCHES,
  MAX_IN_VALUES,
  MAX_LIKE_PATTERN_LENGTH,
  MAX_NESTING,
} from './sql-limits.ts';
import {
  DATE_PARTS,
  type CompareOp,
  type DatePart,
  type LikeToken,
  type Position,
  type SqlCaseBranch,
  type SqlCondition,
  type SqlExpr,
} from './sql-task-model.ts';
import {
  aggregateText,
  balanced,
  chain,
  columnName,
  functionName,
  isSubquery,
  isUser,
  SqlText,
  SUBQUERY_HINT,
  type Node,
} from './sql-ast.ts';

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

/** The comparison with its sides swapped: 3 < x is x > 3. */
const MIRRORED: Record<CompareOp, CompareOp> = {
  '=': '=',
  '<>': '<>',
  '<': '>',
  '<=': '>=',
  '>': '<',
  '>=': '<=',
};

const CONSTANT_NODES = new Set(['number', 'bigint', 'single_quote_string', 'bool', 'null']);

/** The tests of a subquery that the parser reads as functions: EXISTS (SELECT ...), x = ANY (SELECT ...). */
const SUBQUERY_TESTS = new Set(['exists', 'any', 'all', 'some']);

function literal(tokens: LikeToken[], c: string): void {
  const last = tokens.at(-1);
  if (last?.kind === 'text') last.text += c;
  else tokens.push({ kind: 'text', text: c });
}

/** A constant as the parser gives it, a negative number included. */
function isConstant(node: Node): boolean {
  if (node?.type === 'unary_expr' && node.operator === '-') return isConstant(node.expr);
  return CONSTANT_NODES.has(node?.type);
}

/** Checks values and conditions; the query checker (parse-sql-task.ts) builds on it. */
export class ExpressionChecker extends SqlText {
  expr(node: Node, parent: Position, depth: number): SqlExpr {
    if (depth > MAX_NESTING)
      throw sqlError(parent, `the expression nests more than ${MAX_NESTING} deep.`);
    const at = this.locOf(node, parent);
    switch (node?.type) {
      case 'column_ref': {
        const name = columnName(node.column);
        if (name === undefined) throw sqlError(at, 'this column reference is not supported.');
        const table = typeof node.table === 'string' && node.table !== '' ? node.table : null;
        const named = node.loc ? at : this.nameAt(name, parent.offset, table);
        if (isUser(node.column)) {
          throw sqlError(
            named,
            '"user" is the user and may only appear in count(DISTINCT user) and USING (user); grouping or filtering by the user would publish single users.',
          );
        }
        return { kind: 'column', table, name, at: named };
      }
      // The parser calls numbers with an exponent (1.5e3) or many digits "bigint".
      case 'number':
      case 'bigint': {
        const text = String(node.value);
        const value = Number(text);
        const here = node.loc ? at : this.find(text, parent.offset);
        if (!Number.isFinite(value))
          throw sqlError(here, `the number ${shown(text)} is not a finite number.`);
        if (/^\d+$/.test(text) && !Number.isSafeInteger(value)) {
          throw sqlError(
            here,
            `the integer ${shown(text)} is beyond 9007199254740991, the largest a task's numbers hold exactly.`,
          );
        }
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
        if (String(node.operator).toUpperCase() === 'NOT EXISTS' && isSubquery(node.expr)) {
          const found = this.tokenAt(/not\s+exists\b/iy, parent.offset);
          throw this.refuseAt(found, parent, 'NOT EXISTS (a subquery)', SUBQUERY_HINT);
        }
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
      case 'case':
        return this.caseExpr(node, parent, depth);
      case 'aggr_func':
        throw sqlError(
          at,
          `${shown(aggregateText(node))}: aggregates other than one count(DISTINCT user) in the SELECT list are not supported.`,
        );
    }
    throw this.unsupported(node, parent);
  }

  /**
   * CASE WHEN <condition> THEN <value> ... [ELSE <value>] END, or CASE x WHEN <constant> THEN ...
   * (each WHEN then reads x = <constant>). Without ELSE, a row no WHEN matches gives NULL.
   */
  caseExpr(node: Node, parent: Position, depth: number): SqlExpr {
    const at = this.caseAt(node, parent);
    const args: Node[] = Array.isArray(node.args) ? node.args : [];
    const whens = args.filter((a) => a?.type === 'when');
    if (whens.length > MAX_CASE_BRANCHES) {
      throw sqlError(
        at,
        `the CASE has ${whens.length} WHEN branches; at most ${MAX_CASE_BRANCHES} are allowed (use a lookup table for longer mappings).`,
      );
    }
    const elseNode = args.find((a) => a?.type === 'else');
    const otherwise: SqlExpr = elseNode
      ? this.expr(elseNode.result, at, depth + 1)
      : { kind: 'null', at };
    if (node.expr) {
      const subject = this.expr(node.expr, at, depth + 1);
      const branches = whens.map((branch) => {
        const value = this.constant(branch.cond, at);
        if (value.kind === 'null')
          throw sqlError(value.at, 'WHEN NULL never matches; write CASE WHEN x IS NULL THEN ...');
        return { value, then: this.expr(branch.result, at, depth + 1) };
      });
      return { kind: 'simple-case', subject, branches, otherwise, at };
    }
    const branches = whens.map((branch): SqlCaseBranch => ({
      when: this.condition(branch.cond, at, depth + 1),
      then: this.expr(branch.result, at, depth + 1),
    }));
    return { kind: 'case', branches, otherwise, at };
  }

  /**
   * Where a CASE starts: node-sql-parser gives it no location, so its keyword is found in the
   * text: the last one before its first located part (a nested CASE lies inside that part), or
   * else the first one from its parent on that no CASE read before has taken.
   */
  caseAt(node: Node, parent: Position): Position {
    const first = node.args?.find((a: Node) => a?.type === 'when')?.cond;
    const anchor: unknown = node.expr?.loc?.start?.offset ?? first?.loc?.start?.offset;
    const end = typeof anchor === 'number' ? anchor : this.text.length;
    const keywords = [...this.text.slice(parent.offset, end).matchAll(/\bcase\b/gi)].map(
      (m) => parent.offset + m.index,
    );
    const found =
      typeof anchor === 'number' ? keywords.at(-1) : keywords.find((k) => !this.#cases.has(k));
    if (found === undefined) return parent;
    this.#cases.add(found);
    return this.pos(found);
  }

  /** Offsets of the CASE keywords already read (caseAt). */
  readonly #cases = new Set<number>();

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
    if (SUBQUERY_TESTS.has(name) && args.some(isSubquery))
      throw sqlError(at, `${name.toUpperCase()} (a subquery) is not supported: ${SUBQUERY_HINT}`);
    throw sqlError(
      at,
      `the function ${shown(name)}(...) with ${args.length} argument${args.length === 1 ? '' : 's'} is not supported; use floor(x), ceil(x), extract(part FROM x), lookup('table', x) or CASE WHEN ... THEN ... END.`,
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
    if (COMPARE[op] !== undefined && isConstant(node.left) && !isConstant(node.right)) {
      // "18 <= age" reads as "age >= 18": the column goes on the left.
      return this.condition(
        { ...node, operator: MIRRORED[COMPARE[op]], left: node.right, right: node.left },
        parent,
        depth,
      );
    }
    const left = this.expr(node.left, at, depth + 1);
    if (op === 'IS' || op === 'IS NOT') {
      if (node.right?.type === 'bool') {
        return {
          kind: 'is-bool',
          negated: op === 'IS NOT',
          value: node.right.value === true,
          left,
          at,
        };
      }
      if (node.right?.type !== 'null') {
        throw sqlError(at, `${op} is supported as ${op} NULL, ${op} TRUE and ${op} FALSE.`);
      }
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
    if (op === 'LIKE' || op === 'NOT LIKE') {
      return {
        kind: 'like',
        negated: op === 'NOT LIKE',
        left,
        pattern: this.pattern(node, at),
        at,
      };
    }
    if (op === 'ILIKE' || op === 'NOT ILIKE') {
      throw sqlError(
        at,
        `${op} is not supported: its case folding differs between the stores; use LIKE with each spelling (city LIKE 'b%' OR city LIKE 'B%').`,
      );
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

  /** The string constant of `x LIKE '<pattern>' [ESCAPE '<one character>']`, read into tokens. */
  pattern(node: Node, at: Position): LikeToken[] {
    const right = node.right;
    if (right?.type !== 'single_quote_string') {
      throw sqlError(
        at,
        "LIKE takes a string pattern: city LIKE 'B%' ('%' any text, '_' one character).",
      );
    }
    const text = String(right.value).replaceAll("''", "'");
    if (text.length > MAX_LIKE_PATTERN_LENGTH) {
      throw sqlError(
        at,
        `the LIKE pattern has ${text.length} characters; at most ${MAX_LIKE_PATTERN_LENGTH} are allowed.`,
      );
    }
    let escape: string | undefined;
    if (right.escape) {
      const value = right.escape.value;
      escape = value?.type === 'single_quote_string' ? String(value.value) : undefined;
      if (escape === undefined || [...escape].length !== 1)
        throw sqlError(at, "ESCAPE takes one character: city LIKE '100!%' ESCAPE '!'.");
    }
    const tokens: LikeToken[] = [];
    const chars = [...text];
    for (let i = 0; i < chars.length; i++) {
      const c = chars[i]!;
      if (c === escape) {
        const next = chars[++i];
        if (next === undefined)
          throw sqlError(at, `the LIKE pattern ends with its escape character ${shown(c)}.`);
        literal(tokens, next);
      } else if (c === '%') {
        if (tokens.at(-1)?.kind !== 'any') tokens.push({ kind: 'any' });
      } else if (c === '_') tokens.push({ kind: 'one' });
      else literal(tokens, c);
    }
    return tokens;
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
}
