// The checked form of a `sql` task: what it groups by, which rows it keeps, which tables it joins.

/** Where a construct starts in the query, 1-based, as the analyst's editor counts. */
export interface Position {
  offset: number;
  line: number;
  column: number;
}

/** A value expression: a column, a constant, or a bucketing function of columns. */
export type SqlExpr =
  | { kind: 'column'; table: string | null; name: string; at: Position }
  | { kind: 'number'; value: number; at: Position }
  | { kind: 'string'; value: string; at: Position }
  | { kind: 'boolean'; value: boolean; at: Position }
  | { kind: 'null'; at: Position }
  | { kind: 'arithmetic'; op: '+' | '-' | '*' | '/'; left: SqlExpr; right: SqlExpr; at: Position }
  | { kind: 'negate'; arg: SqlExpr; at: Position }
  | { kind: 'round'; fn: 'floor' | 'ceil'; arg: SqlExpr; at: Position }
  | { kind: 'extract'; field: DatePart; source: SqlExpr; at: Position }
  | { kind: 'lookup'; table: string; key: SqlExpr; at: Position }
  | { kind: 'case'; branches: SqlCaseBranch[]; otherwise: SqlExpr; at: Position }
  /** `CASE x WHEN <constant> THEN ...`: x is written (and computed) once, as SQL has it. */
  | {
      kind: 'simple-case';
      subject: SqlExpr;
      branches: SqlMatchBranch[];
      otherwise: SqlExpr;
      at: Position;
    };

/** `WHEN <condition> THEN <value>` of a CASE. */
export interface SqlCaseBranch {
  when: SqlCondition;
  then: SqlExpr;
}

/** `WHEN <constant> THEN <value>` of a simple CASE: the subject equals the constant. */
export interface SqlMatchBranch {
  value: SqlExpr;
  then: SqlExpr;
}

/** A row condition: comparisons of an expression with constants, joined by AND, OR and NOT. */
export type SqlCondition =
  | { kind: 'and' | 'or'; left: SqlCondition; right: SqlCondition; at: Position }
  | { kind: 'not'; arg: SqlCondition; at: Position }
  | { kind: 'compare'; op: CompareOp; left: SqlExpr; right: SqlExpr; at: Position }
  | { kind: 'in'; negated: boolean; left: SqlExpr; values: SqlExpr[]; at: Position }
  | { kind: 'between'; negated: boolean; left: SqlExpr; low: SqlExpr; high: SqlExpr; at: Position }
  | { kind: 'is-null'; negated: boolean; left: SqlExpr; at: Position }
  /** `x IS [NOT] TRUE|FALSE`: never NULL, so x IS NOT TRUE keeps the rows where x is NULL. */
  | { kind: 'is-bool'; negated: boolean; value: boolean; left: SqlExpr; at: Position }
  | { kind: 'like'; negated: boolean; left: SqlExpr; pattern: LikeToken[]; at: Position }
  | { kind: 'truth'; arg: SqlExpr; at: Position };

export type CompareOp = '=' | '<>' | '<' | '<=' | '>' | '>=';

/**
 * A LIKE pattern read once, whatever its escape character: `%` any text (maybe none), `_` any
 * one character, the rest literal. Each store writes it in its own syntax (sql-dialect.ts).
 */
export type LikeToken = { kind: 'any' } | { kind: 'one' } | { kind: 'text'; text: string };

/**
 * The date parts of `extract(<part> FROM <seconds since 1970>)`, with PostgreSQL's meanings:
 * dow 0 = Sunday, isodow 7 = Sunday, doy 1 = 1 January; all in UTC, fractions of a second dropped.
 */
export const DATE_PARTS = [
  'year',
  'month',
  'day',
  'hour',
  'minute',
  'second',
  'dow',
  'isodow',
  'doy',
] as const;
export type DatePart = (typeof DATE_PARTS)[number];

/** One selected group expression and the name it has in bucket labels. */
export interface SqlGroup {
  name: string;
  expr: SqlExpr;
  /**
   * GROUP BY's spellings of expr whose columns are qualified otherwise (people.city, p.city for
   * city): the compiler checks that each names the same columns as expr.
   */
  qualifiedAs: SqlExpr[];
}

/** A table of FROM or JOIN, with the alias columns may be qualified by (its name when none). */
export interface SqlTableRef {
  table: string;
  alias: string;
  at: Position;
}

export interface SqlTaskQuery {
  /** FROM first, then each JOIN ... USING (user), in order. */
  tables: SqlTableRef[];
  groups: SqlGroup[];
  where: SqlCondition | null;
  /** The label of the one bucket a query without group expressions has: the count's alias. */
  countName: string;
}
