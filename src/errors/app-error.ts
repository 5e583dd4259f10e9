// AppError: an error from the catalogue, with its parameters filled into the message template.
import { ERROR_CATALOGUE, type ErrorCode } from './catalogue.ts';

export type ErrorParams = Record<string, string | number>;

export class AppError extends Error {
  readonly code: ErrorCode;
  readonly status: number;

  constructor(code: ErrorCode, params: ErrorParams = {}) {
    super(formatTemplate(ERROR_CATALOGUE[code].template, params));
    this.name = 'AppError';
    this.code = code;
    this.status = ERROR_CATALOGUE[code].status;
  }
}

export function formatTemplate(template: string, params: ErrorParams): string {
  return template.replace(/\{(\w+)\}/g, (whole, key: string) =>
    key in params ? String(params[key]) : whole,
  );
}

/** Names the parameters a template expects, so tests can check callers and docs. */
export function templateParameters(template: string): string[] {
  return [...template.matchAll(/\{(\w+)\}/g)].map((m) => m[1] as string);
}
