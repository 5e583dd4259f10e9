// The sizes a sql task may have, and the name of the user; each limit says why it exists.
/** Longer queries are refused before parsing: the parser's time grows with the text. */
export const MAX_QUERY_LENGTH = 20_000;
/** Parentheses and expressions nest at most this deep (the parser and compiler recurse). */
export const MAX_NESTING = 16;
/** Values in one IN list; longer lists are a lookup table's job. */
export const MAX_IN_VALUES = 1000;
export const MAX_GROUPS = 8;
/** Characters of a LIKE pattern: a pattern is a prefix or a few fragments, not a document. */
export const MAX_LIKE_PATTERN_LENGTH = 1000;
/** WHEN branches of one CASE: enough for any bucketing by hand; longer is a lookup table's job. */
export const MAX_CASE_BRANCHES = 100;
export const MAX_TABLES = 4;
/** The name that means "the user" in count(DISTINCT user) and USING (user). */
export const USER = 'user';
/** The parser's time for one query (see parse-sql-task.ts, parseWithin). */
export const PARSE_TIME_LIMIT_MS = 1000;
