// AppError: an error from the catalogue, with its parameters filled into the message template.
import { indefiniteArticle } from './article.ts';
import { ERROR_CATALOGUE, type ErrorCode, type ErrorEntry } from './catalogue.ts';

export type ErrorParams = Record<string, string | number>;

export class AppError extends Error {
  readonly code: ErrorCode;
  readonly status: number;
  /** The message for the command line: the catalogue's `cli` form where there is one. */
  readonly cliMessage: string;

  constructor(code: ErrorCode, params: ErrorParams = {}) {
    const entry: ErrorEntry = ERROR_CATALOGUE[code];
    super(formatTemplate(entry.template, params));
    this.name = 'AppError';
    this.code = code;
    this.status = entry.status;
    this.cliMessage = entry.cli !== undefined ? formatTemplate(entry.cli, params) : this.message;
  }
}

/**
 * Fills a template's parameters. "a" or "A" right before a parameter becomes "an" where the value
 * starts with a vowel sound, so "a {required} key" reads "an upload_any key".
 */
export function formatTemplate(template: string, params: ErrorParams): string {
  return template.replace(
    /(?:\b([Aa]) )?\{(\w+)\}/g,
    (whole, article: string | undefined, key: string) => {
      if (!(key in params)) return whole;
      const value = String(params[key]);
      return article === undefined ? value : `${indefiniteArticle(value, article)} ${value}`;
    },
  );
}

/** Names the parameters a template expects, so tests can check callers and docs. */
export function templateParameters(template: string): string[] {
  return [...template.matchAll(/\{(\w+)\}/g)].map((m) => m[1] as string);
}
