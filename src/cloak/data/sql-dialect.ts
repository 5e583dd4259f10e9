// The few places where the SQL of prefetch filters and sql tasks differs between SQLite and PostgreSQL.
import type { Dialect } from '../../store/index.ts';
import type { DatePart, LikeToken } from '../sql-task/sql-task-model.ts';

/** What a bound constant is, so that PostgreSQL can type a parameter it cannot infer. */
export type ParamKind = 'number' | 'text' | 'integer';

/**
 * Identifier quoting, `CAST`, `floor`/`ceil`, `IN (...)`, `BETWEEN` and `GROUP BY <position>`
 * read the same in both dialects; what follows does not. Semantics are kept equal: strings
 * compare by code point (PostgreSQL columns are `COLLATE "C"`), booleans are stored as 0/1 in
 * both, `/` is real division, dates are UTC, and a comparison with NULL is false, not NULL.
 */
export interface SqlFlavor {
  readonly dialect: Dialect;
  /** `column` is one of the user ids bound as one JSON array parameter. */
  inUserList(column: string): string;
  /** A parameter placeholder; PostgreSQL gets its type spelled out. */
  param(kind: ParamKind): string;
  /** Null-safe equality with a parameter (`$eq`/`$neq`): a null cell differs from any value. */
  nullSafeEquals(column: string, param: string, negated: boolean): string;
  /** An ordering comparison that is false, never NULL, on a null cell. */
  falseIfNull(comparison: string): string;
  /** Real division, also of two integers. */
  divide(left: string, right: string): string;
  /** A date part of a UNIX time in seconds, in UTC, as an integer. */
  datePart(field: DatePart, seconds: string): string;
  /**
   * `column` matches the pattern bound as `param` (written by likePattern): case-sensitive, `_`
   * one character (a code point), NULL matching nothing.
   */
  like(column: string, param: string, negated: boolean): string;
  likePattern(tokens: readonly LikeToken[]): string;
  /**
   * A text that is not a data column (a lookup value) compared and sorted by code point, as the
   * data columns are: PostgreSQL's default collation may be a language's.
   */
  byCodePoint(text: string): string;
  /**
   * `value` where it lies in [low, high], else NULL; `value` is written once (it may hold
   * parameters, and a copy per use would double with each nesting).
   */
  within(value: string, low: number, high: number): string;
  /**
   * Whether a sql task's rows are one per user with the user's groups as one JSON array
   * (CompiledSqlTask's `user` shape), rather than one per (user, group). SQLite's are: it reads
   * a user's rows in key order and builds the array without a sort of all the groups, and far
   * fewer rows cross into JavaScript.
   */
  readonly groupsAsJson: boolean;
}

const STRFTIME: Record<DatePart, string> = {
  year: "CAST(strftime('%Y', $, 'unixepoch') AS INTEGER)",
  month: "CAST(strftime('%m', $, 'unixepoch') AS INTEGER)",
  day: "CAST(strftime('%d', $, 'unixepoch') AS INTEGER)",
  hour: "CAST(strftime('%H', $, 'unixepoch') AS INTEGER)",
  minute: "CAST(strftime('%M', $, 'unixepoch') AS INTEGER)",
  second: "CAST(strftime('%S', $, 'unixepoch') AS INTEGER)",
  dow: "CAST(strftime('%w', $, 'unixepoch') AS INTEGER)",
  isodow: "((CAST(strftime('%w', $, 'unixepoch') AS INTEGER) + 6) % 7 + 1)",
  doy: "CAST(strftime('%j', $, 'unixepoch') AS INTEGER)",
};

export const SQLITE_FLAVOR: SqlFlavor = {
  dialect: 'sqlite',
  inUserList: (column) => `${column} IN (SELECT value FROM json_each(?))`,
  param: () => '?',
  nullSafeEquals: (column, param, negated) => `(${column} IS ${negated ? 'NOT ' : ''}${param})`,
  falseIfNull: (comparison) => `IFNULL(${comparison}, 0)`,
  // SQLite would truncate integer / integer.
  divide: (left, right) => `(CAST(${left} AS REAL) / ${right})`,
  datePart: (field, seconds) => STRFTIME[field].replace('$', seconds),
  // GLOB, not LIKE: SQLite's LIKE ignores the case of ASCII letters, PostgreSQL's does not.
  like: (column, param, negated) => `(${column} ${negated ? 'NOT ' : ''}GLOB ${param})`,
  likePattern: (tokens) =>
    tokens
      .map((t) =>
        t.kind === 'any' ? '*' : t.kind === 'one' ? '?' : t.text.replace(/[*?[]/g, '[$&]'),
      )
      .join(''),
  byCodePoint: (text) => text,
  // min() and max() of several arguments are NULL when one is.
  within: (value, low, high) =>
    `NULLIF(NULLIF(max(min(${value}, ${high + 1}), ${low - 1}), ${low - 1}), ${high + 1})`,
  groupsAsJson: true,
};

const PG_TYPES: Record<ParamKind, string> = {
  number: 'double precision',
  text: 'text',
  integer: 'bigint',
};

export const POSTGRES_FLAVOR: SqlFlavor = {
  dialect: 'postgres',
  inUserList: (column) => `${column} IN (SELECT json_array_elements_text(CAST(? AS json)))`,
  // A text constant compares by code point even where nothing else sets the collation (a CASE
  // of constants).
  param: (kind) => `CAST(? AS ${PG_TYPES[kind]})${kind === 'text' ? ' COLLATE "C"' : ''}`,
  nullSafeEquals: (column, param, negated) =>
    `(${column} IS ${negated ? '' : 'NOT '}DISTINCT FROM ${param})`,
  falseIfNull: (comparison) => `COALESCE(${comparison}, false)`,
  divide: (left, right) => `(CAST(${left} AS double precision) / ${right})`,
  // extract() gives numeric; to_timestamp() of seconds, read in UTC as strftime's 'unixepoch'.
  datePart: (field, seconds) =>
    `CAST(extract(${field} FROM to_timestamp(${seconds}) AT TIME ZONE 'UTC') AS bigint)`,
  like: (column, param, negated) => `(${column} ${negated ? 'NOT ' : ''}LIKE ${param} ESCAPE '\\')`,
  likePattern: (tokens) =>
    tokens
      .map((t) =>
        t.kind === 'any' ? '%' : t.kind === 'one' ? '_' : t.text.replace(/[%_\\]/g, '\\$&'),
      )
      .join(''),
  byCodePoint: (text) => `${text} COLLATE "C"`,
  // LEAST and GREATEST skip a NULL (and NaN sorts above every number): both end at a bound.
  within: (value, low, high) =>
    `NULLIF(NULLIF(GREATEST(LEAST(${value}, ${high + 1}), ${low - 1}), ${low - 1}), ${high + 1})`,
  groupsAsJson: false,
};

export function sqlFlavor(dialect: Dialect): SqlFlavor {
  return dialect === 'postgres' ? POSTGRES_FLAVOR : SQLITE_FLAVOR;
}
