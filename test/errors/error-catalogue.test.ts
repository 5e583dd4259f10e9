// The error catalogue is complete, well formed and documented.
import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import {
  AppError,
  ERROR_CATALOGUE,
  templateParameters,
  type ErrorCode,
} from '../../src/errors/index.ts';
import { ERROR_DOCS_PATH, renderErrorDocs } from '../../scripts/error-docs.ts';

const entries = Object.entries(ERROR_CATALOGUE) as Array<
  [ErrorCode, { status: number; template: string }]
>;

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

  it('is listed in docs/errors.md exactly as generated (run `npm run docs:errors` after a change)', () => {
    expect(readFileSync(ERROR_DOCS_PATH, 'utf8')).toBe(renderErrorDocs());
  });
});
