// The error catalogue is complete, well formed and documented.
import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import {
  AppError,
  ERROR_CATALOGUE,
  templateParameters,
  type ErrorCode,
  type ErrorEntry,
} from '../../src/errors/index.ts';
import { ERROR_DOCS_PATH, renderErrorDocs } from '../../scripts/error-docs.ts';

const entries = Object.entries(ERROR_CATALOGUE) as Array<[ErrorCode, ErrorEntry]>;

/** Errors only the HTTP servers raise, so the command line never prints them. */
const HTTP_ONLY: ReadonlySet<ErrorCode> = new Set<ErrorCode>([
  'CSRF_TOKEN_INVALID', // the site's login session
  'RUN_NOT_FOUND', // runs are followed over the API; `opencloak task run` holds its own
]);
const HTTP_ENDPOINT = /\b(GET|POST|PUT|PATCH|DELETE) \/|\/api\//;

describe('error catalogue', () => {
  it.each(entries)(
    '%s has a client or server status and a message that ends as a sentence',
    (_code, entry) => {
      expect(entry.status).toBeGreaterThanOrEqual(400);
      expect(entry.status).toBeLessThan(600);
      // A template that is only a parameter (INVALID_PARAMETER) gets its whole sentence from the caller.
      if (entry.template === '{detail}') return;
      expect(entry.template.length).toBeGreaterThan(15);
      expect(entry.template).toMatch(/[.)}]$/);
    },
  );

  it('fills every parameter of a template', () => {
    for (const [code, entry] of entries) {
      const params = Object.fromEntries(
        templateParameters(entry.template).map((p) => [p, `<${p}>`]),
      );
      const error = new AppError(code, params);
      expect(error.message).not.toMatch(/\{\w+\}/);
      expect(error.status).toBe(entry.status);
    }
  });

  it('prints commands, not HTTP endpoints, on the command line', () => {
    for (const [code, entry] of entries) {
      if (entry.cli !== undefined) {
        for (const param of templateParameters(entry.cli)) {
          expect(templateParameters(entry.template), `${code} cli {${param}}`).toContain(param);
        }
      }
      if (HTTP_ONLY.has(code)) continue;
      expect(entry.cli ?? entry.template, code).not.toMatch(HTTP_ENDPOINT);
    }
    const error = new AppError('TASK_NOT_FOUND', { task: 'spend' });
    expect(error.message).toContain('GET /api/tasks');
    expect(error.cliMessage).toContain('`opencloak task list --org <org>`');
  });

  it('is listed in docs/errors.md exactly as generated (run `npm run docs:errors` after a change)', () => {
    expect(readFileSync(ERROR_DOCS_PATH, 'utf8')).toBe(renderErrorDocs());
  });
});
