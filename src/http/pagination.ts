// Parses and bounds the `page` and `per_page` query parameters of the results endpoints.
import { AppError } from '../errors/index.ts';

export interface Pagination {
  page: number;
  perPage: number;
}

const MAX_PAGE = 1_000_000;

/** What an error calls `page` and `per_page`: the query parameters, or the CLI's options. */
export interface PaginationNames {
  page: string;
  perPage: string;
}

const QUERY_NAMES: PaginationNames = { page: 'page', perPage: 'per_page' };

/**
 * `names` are what a refusal calls the two values: the command line passes its options
 * (`--page`, `--per-page`), which INVALID_PAGINATION's command-line form prints as they are.
 */
export function parsePagination(
  query: unknown,
  maxPerPage: number,
  names: PaginationNames = QUERY_NAMES,
): Pagination {
  const q = (query ?? {}) as Record<string, unknown>;
  return {
    page: wholeNumber(q.page, names.page, 1, MAX_PAGE, 1),
    perPage: wholeNumber(q.per_page, names.perPage, 1, maxPerPage, 10),
  };
}

function wholeNumber(
  raw: unknown,
  param: string,
  min: number,
  max: number,
  fallback: number,
): number {
  if (raw === undefined) return fallback;
  // A repeated parameter (?page=1&page=2) arrives as an array: ambiguous, so refused.
  const text = typeof raw === 'string' ? raw.trim() : '';
  const value = /^\d{1,9}$/.test(text) ? Number(text) : NaN;
  if (!Number.isInteger(value) || value < min || value > max) {
    throw new AppError('INVALID_PAGINATION', { param, min, max, value: String(raw) });
  }
  return value;
}
