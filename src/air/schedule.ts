// Periodic tasks' schedules: a fixed interval or a cron expression (UTC), checked on save.
import { CronExpressionParser } from 'cron-parser';
import { AppError } from '../errors/index.ts';

export type Schedule = { every_seconds: number } | { cron: string };

/** Shorter intervals would let one organisation keep the cloak busy by itself. */
export const MIN_INTERVAL_SECONDS = 60;

const fail = (detail: string): never => {
  throw new AppError('INVALID_PARAMETER', { detail });
};

/**
 * A periodic task needs a schedule, other types must not have one. Errors say what to write:
 * `{"every_seconds": 3600}` or `{"cron": "0 6 * * 1"}` (minute hour day month weekday, in UTC).
 */
export function checkSchedule(type: string, raw: unknown): Schedule | null {
  if (type !== 'periodic') {
    if (raw === undefined || raw === null) return null;
    return fail(
      `Only periodic tasks have a schedule; a ${type} task cannot. Leave out "schedule".`,
    );
  }
  const example = 'e.g. {"every_seconds": 3600} or {"cron": "0 6 * * 1"} (UTC)';
  if (typeof raw !== 'object' || raw === null || Array.isArray(raw)) {
    return fail(`A periodic task needs a "schedule", ${example}.`);
  }
  const keys = Object.keys(raw);
  if (keys.length !== 1 || (keys[0] !== 'every_seconds' && keys[0] !== 'cron')) {
    return fail(`"schedule" must have exactly one of "every_seconds" or "cron", ${example}.`);
  }
  const { every_seconds: every, cron } = raw as Record<string, unknown>;
  if (keys[0] === 'every_seconds') {
    if (typeof every !== 'number' || !Number.isInteger(every) || every < MIN_INTERVAL_SECONDS) {
      return fail(
        `"every_seconds" must be a whole number of seconds, at least ${MIN_INTERVAL_SECONDS}; got ${JSON.stringify(every)}.`,
      );
    }
    return { every_seconds: every };
  }
  if (typeof cron !== 'string' || cron.trim().split(/\s+/).length !== 5) {
    return fail(
      `"cron" must have five fields (minute hour day-of-month month day-of-week), e.g. "0 6 * * 1"; got ${JSON.stringify(cron)}.`,
    );
  }
  try {
    CronExpressionParser.parse(cron, { tz: 'UTC', strict: false });
  } catch (error) {
    return fail(`"cron" is not a valid cron expression: ${(error as Error).message}.`);
  }
  return { cron: cron.trim() };
}

/** The first run time strictly after `afterMs`. */
export function nextRunAfter(schedule: Schedule, afterMs: number): number {
  if ('every_seconds' in schedule) return afterMs + schedule.every_seconds * 1000;
  const expression = CronExpressionParser.parse(schedule.cron, {
    tz: 'UTC',
    currentDate: new Date(afterMs),
  });
  return expression.next().getTime();
}
