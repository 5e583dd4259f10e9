// Reads a task specification as the APIs send it: code, prefetch and language, in either form.
import { AppError } from '../errors/index.ts';
import { TASK_LANGUAGES, type TaskLanguage } from '../shared/index.ts';

/**
 * `{"prefetch", "post_processing": {"code", "language"?}}` (the seed's /task/run body) or the
 * flat `{"code", "prefetch", "language"}` the air passes; only the shape is checked here.
 */
export function readSpec(spec: unknown): {
  code: string;
  prefetch: unknown;
  language: TaskLanguage;
} {
  if (typeof spec !== 'object' || spec === null || Array.isArray(spec)) {
    throw new AppError('INVALID_BODY', {
      detail: 'a task is an object {"prefetch": [...], "post_processing": {"code": "..."}}.',
    });
  }
  const s = spec as Record<string, unknown>;
  const post = s.post_processing as Record<string, unknown> | undefined;
  const code = typeof s.code === 'string' ? s.code : post?.code;
  if (typeof code !== 'string' || code.trim() === '') {
    throw new AppError('INVALID_BODY', {
      detail:
        'the task has no code: put the JavaScript source (or the SQL query, with "language": "sql") in "post_processing": {"code": "..."}.',
    });
  }
  const language = s.language ?? post?.language ?? 'javascript';
  if (!(TASK_LANGUAGES as readonly unknown[]).includes(language)) {
    throw new AppError('INVALID_BODY', {
      detail: `"language" must be one of ${TASK_LANGUAGES.join(', ')}; got ${JSON.stringify(language)}.`,
    });
  }
  // A sql task's query names its tables; the cloak derives its prefetch (sql-task-run.ts).
  if (language !== 'sql' && (!Array.isArray(s.prefetch) || s.prefetch.length === 0)) {
    throw new AppError('INVALID_BODY', {
      detail: '"prefetch" must be a non-empty list of {"table": "<name>", ...} selections.',
    });
  }
  return { code, prefetch: s.prefetch, language: language as TaskLanguage };
}
