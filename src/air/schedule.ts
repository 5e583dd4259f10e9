// Schedules, checked on save: a periodic task's interval or cron expression (UTC), and a streaming
// task's report and expiry intervals.
import { CronExpressionParser } from 'cron-parser';
import { AppError, withArticle } from '../errors/index.ts';

export type Schedule = { every_seconds: number } | { cron: string } | StreamingSchedule;

/** A report every `report_interval` s, of the users whose task ran within `user_expire_interval` s. */
export interface StreamingSchedule {
  report_interval: number;
  user_expire_interval: number;
}

/** Shorter intervals would let one organisation keep the cloak busy by itself. */
export const MIN_INTERVAL_SECONDS = 60;

const fail = (detail: string): never => {
  throw new AppError('INVALID_PARAMETER', { detail });
};

/** How errors name the schedule: the API's field, or the command line's option. */
export interface ScheduleNaming {
  /** The schedule itself, e.g. `"schedule"` or `--schedule`. */
  name: string;
  /** What a task without one needs, e.g. `a "schedule"`. */
  needed: string;
}

const API_NAMING: ScheduleNaming = { name: '"schedule"', needed: 'a "schedule"' };
export const CLI_SCHEDULE_NAMING: ScheduleNaming = { name: '--schedule', needed: '--schedule' };

/**
 * Periodic and streaming tasks need a schedule, batch tasks must not have one. Errors say what to
 * write: `{"every_seconds": 3600}` or `{"cron": "0 6 * * 1"}` (minute hour day month weekday, in
 * UTC) for periodic tasks, `{"report_interval": 3600, "user_expire_interval": 86400}` for streaming.
 */
export function checkSchedule(
  type: string,
  raw: unknown,
  naming: ScheduleNaming = API_NAMING,
): Schedule | null {
  if (type === 'streaming') return checkStreamingSchedule(raw, naming);
  if (type !== 'periodic') {
    if (raw === undefined || raw === null) return null;
    return fail(
      `Only periodic and streaming tasks have a schedule; ${withArticle(type)} task cannot. Leave out ${naming.name}.`,
    );
  }
  const example = 'e.g. {"every_seconds": 3600} or {"cron": "0 6 * * 1"} (UTC)';
  if (typeof raw !== 'object' || raw === null || Array.isArray(raw)) {
    return fail(`A periodic task needs ${naming.needed}, ${example}.`);
  }
  const keys = Object.keys(raw);
  if (keys.length !== 1 || (keys[0] !== 'every_seconds' && keys[0] !== 'cron')) {
    return fail(`${naming.name} must have exactly one of "every_seconds" or "cron", ${example}.`);
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

function checkStreamingSchedule(raw: unknown, naming: ScheduleNaming): StreamingSchedule {
  const example = 'e.g. {"report_interval": 3600, "user_expire_interval": 86400}';
  if (typeof raw !== 'object' || raw === null || Array.isArray(raw)) {
    return fail(`A streaming task needs ${naming.needed}, ${example}.`);
  }
  const extra = Object.keys(raw).filter(
    (k) => k !== 'report_interval' && k !== 'user_expire_interval',
  );
  if (extra.length > 0) {
    return fail(
      `${naming.name} of a streaming task has the unknown key "${extra[0]}"; ${example}.`,
    );
  }
  const seconds = (name: 'report_interval' | 'user_expire_interval') => {
    const value = (raw as Record<string, unknown>)[name];
    if (typeof value !== 'number' || !Number.isInteger(value) || value < MIN_INTERVAL_SECONDS) {
      return fail(
        `"${name}" must be a whole number of seconds, at least ${MIN_INTERVAL_SECONDS}; got ${JSON.stringify(value)} (${example}).`,
      );
    }
    return value;
  };
  return {
    report_interval: seconds('report_interval'),
    user_expire_interval: seconds('user_expire_interval'),
  };
}

/** The first run (or report) time strictly after `afterMs`. */
export function nextRunAfter(schedule: Schedule, afterMs: number): number {
  if ('every_seconds' in schedule) return afterMs + schedule.every_seconds * 1000;
  if ('report_interval' in schedule) return afterMs + schedule.report_interval * 1000;
  const expression = CronExpressionParser.parse(schedule.cron, {
    tz: 'UTC',
    currentDate: new Date(afterMs),
  });
  return expression.next().getTime();
}
