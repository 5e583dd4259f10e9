// Parses and bounds the `page` and `per_page` query parameters of the results endpoints.
import { AppError } from '../errors/index.ts';

export interface Pagination {
  page: number;
  perPage: number;
}

const MAX_PAGE = 1_000_000;

export function parsePagination(query: unknown, maxPerPage: number): Pagination {
  const q = (query ?? {}) as Record<string, unknown>;
  return {
    page: wholeNumber(q.page, 'page', 1, MAX_PAGE, 1),
    perPage: wholeNumber(q.per_page, 'per_page', 1, maxPerPage, 10),
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
