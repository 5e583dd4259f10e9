// Access levels on the air side: who may change them, and the level a task run gets.
import { AppError } from '../errors/index.ts';
import { lowerAccessLevel, type AccessLevel } from '../shared/index.ts';
import type { AirStore, Analyst, TaskRecord } from './store/index.ts';

/**
 * Who saves or starts a task, as the server knows them: a logged-in person, a key's owner (from
 * the key registry, not the request), the scheduler acting for the task's saver, or nobody (the
 * CLI operator). Levels are never carried here: they are read from air.db when a run starts.
 */
export interface TaskActor {
  /** The audit log's name for them: "analyst:<id>", "key:<id>", "scheduler", "cli". */
  actor: string;
  personId: string | null;
}

/** The CLI operator and anything else without a person: always untrusted. */
export const NOBODY: TaskActor = Object.freeze({ actor: 'cli', personId: null });

/**
 * The lower of the starter's and the saver's current levels. Either alone would be a way up: an
 * untrusted analyst could save a task for a trusted colleague to run (starter only), or run a
 * trusted colleague's task with a schedule or timing of their choosing (saver only).
 */
export async function runAccessLevel(
  store: AirStore,
  task: TaskRecord,
  by: TaskActor,
): Promise<AccessLevel> {
  const people = store.organisations;
  return lowerAccessLevel(
    await people.accessLevelOf(by.personId, task.orgId),
    await people.accessLevelOf(task.savedBy, task.orgId),
  );
}

/**
 * Writes a trusted run to the audit log with its code and prefetch before it starts: the log is
 * the control that replaces the budget for trusted analysts, so a run that cannot be logged does
 * not start (the write throws).
 */
export async function auditTrustedRun(
  store: AirStore,
  task: TaskRecord,
  by: TaskActor,
  via: string,
): Promise<void> {
  await store.audit.record({
    orgId: task.orgId,
    event: 'task.run.trusted',
    actor: by.actor,
    detail: {
      task: task.token,
      name: task.name,
      code_version: task.codeVersion,
      saved_by: task.savedBy === null ? null : `analyst:${task.savedBy}`,
      code: task.code,
      prefetch: JSON.stringify(task.prefetch),
      via,
    },
  });
}

/**
 * Changes a person's level and audits it. Only installation admins reach this (the site's admin
 * routes and the CLI operator): there is no per-organisation admin, and an analyst who could
 * raise their own level would have no budget at all.
 */
export async function setAccessLevel(
  store: AirStore,
  personId: string,
  level: AccessLevel,
  actor: string,
): Promise<Analyst> {
  const before = await store.organisations.analyst(personId);
  if (!before || !(await store.organisations.setAccessLevel(personId, level))) {
    throw new AppError('ANALYST_NOT_FOUND', { user: personId });
  }
  await store.audit.record({
    orgId: before.orgId,
    event: 'access_level.changed',
    actor,
    detail: { user: before.id, from: before.accessLevel, to: level },
  });
  return (await store.organisations.analyst(personId))!;
}
