// Validates a request body against a zod schema; problems become one 422 that names each field.
import type { z } from 'zod';
import { AppError } from '../errors/index.ts';

export function parseBody<T extends z.ZodType>(schema: T, body: unknown): z.infer<T> {
  const parsed = schema.safeParse(body ?? {});
  if (parsed.success) return parsed.data;
  const problems = parsed.error.issues.map((issue) => {
    const field = issue.path.length > 0 ? `"${issue.path.join('.')}"` : 'the body';
    return `${field}: ${issue.message}`;
  });
  throw new AppError('INVALID_BODY', { detail: `${problems.join('; ')}.` });
}
