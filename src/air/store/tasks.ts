// Tasks of an organisation: name, token, type, code and prefetch, with a code version per change.
import { AppError } from '../../errors/index.ts';
import type { PrefetchSpec, TaskLanguage, TaskType } from '../../shared/index.ts';
import type { SqlDb } from '../../store/index.ts';
import { isUniqueViolation } from './dialect.ts';
import type { Schedule } from '../schedule.ts';
import { randomToken } from './ids.ts';

export { TASK_TYPES, type TaskType } from '../../shared/index.ts';

export interface TaskRecord {
  id: number;
  token: string;
  orgId: string;
  name: string;
  type: TaskType;
  code: string;
  prefetch: PrefetchSpec[];
  codeVersion: number;
  createdAt: number;
  updatedAt: number;
  /** Periodic tasks only. */
  schedule: Schedule | null;
  /** When the scheduler last started a run of this task. */
  lastScheduledAt: number | null;
  language: TaskLanguage;
  /** The JavaScript that runs: the cloak's transpilation of TypeScript, or null when `code` is it. */
  compiledCode: string | null;
  /**
   * The person who created or last saved it (any change), or null for the CLI operator: its runs
   * are never at a higher access level than this person has when the run starts.
   */
  savedBy: string | null;
}

export interface NewTask {
  name: string;
  type: TaskType;
  code: string;
  prefetch: PrefetchSpec[];
  schedule?: Schedule | null;
  language?: TaskLanguage;
  compiledCode?: string | null;
  /** Who saves it; an update without it keeps the previous saver. */
  savedBy?: string | null;
}

interface TaskRow extends Omit<TaskRecord, 'prefetch' | 'schedule'> {
  prefetch: string;
  schedule: string | null;
}

/** Aliases are quoted: PostgreSQL folds unquoted names to lower case. */
const COLUMNS = `id, token, org_id AS "orgId", name, type, code, prefetch,
  code_version AS "codeVersion", created_at AS "createdAt", updated_at AS "updatedAt",
  schedule, last_scheduled_at AS "lastScheduledAt", language, compiled_code AS "compiledCode",
  saved_by AS "savedBy"`;

const TASK_NAME = /^\S(.{0,98}\S)?$/u;

export class TaskStore {
  constructor(private readonly db: SqlDb) {}

  async create(orgId: string, task: NewTask, now = Date.now()): Promise<TaskRecord> {
    checkName(task.name);
    const taken = () => new AppError('TASK_NAME_TAKEN', { name: task.name });
    if (await this.byName(orgId, task.name)) throw taken();
    const token = randomToken();
    let row: { id: number } | undefined;
    try {
      row = await this.db.get<{ id: number }>(
        `INSERT INTO tasks (token, org_id, name, type, code, prefetch, code_version, created_at, updated_at,
           schedule, language, compiled_code, saved_by)
           VALUES (?, ?, ?, ?, ?, ?, 1, ?, ?, ?, ?, ?, ?) RETURNING id`,
        [
          token,
          orgId,
          task.name,
          task.type,
          task.code,
          JSON.stringify(task.prefetch),
          now,
          now,
          task.schedule ? JSON.stringify(task.schedule) : null,
          task.language ?? 'javascript',
          task.compiledCode ?? null,
          task.savedBy ?? null,
        ],
      );
    } catch (error) {
      if (isUniqueViolation(error)) throw taken();
      throw error;
    }
    return (await this.byId(orgId, Number(row!.id)))!;
  }

  /** Changing code or prefetch starts a new code version, so results say what produced them. */
  async update(
    orgId: string,
    id: number,
    change: Partial<NewTask>,
    now = Date.now(),
  ): Promise<TaskRecord> {
    const current = await this.byId(orgId, id);
    if (!current) throw new Error(`task ${id} vanished during update`);
    const next = { ...current, ...change };
    const taken = () => new AppError('TASK_NAME_TAKEN', { name: next.name });
    if (change.name !== undefined && change.name !== current.name) {
      checkName(next.name);
      if (await this.byName(orgId, next.name)) throw taken();
    }
    const codeChanged =
      next.code !== current.code ||
      next.language !== current.language ||
      JSON.stringify(next.prefetch) !== JSON.stringify(current.prefetch);
    try {
      await this.db.run(
        `UPDATE tasks SET name = ?, type = ?, code = ?, prefetch = ?, code_version = ?, updated_at = ?,
           schedule = ?, language = ?, compiled_code = ?, saved_by = ? WHERE org_id = ? AND id = ?`,
        [
          next.name,
          next.type,
          next.code,
          JSON.stringify(next.prefetch),
          current.codeVersion + (codeChanged ? 1 : 0),
          now,
          next.schedule ? JSON.stringify(next.schedule) : null,
          next.language,
          next.compiledCode ?? null,
          next.savedBy ?? null,
          orgId,
          id,
        ],
      );
    } catch (error) {
      if (isUniqueViolation(error)) throw taken();
      throw error;
    }
    return (await this.byId(orgId, id))!;
  }

  /** Every task of one type in every organisation, for the scheduler and streaming start-up. */
  async ofType(type: TaskType): Promise<TaskRecord[]> {
    const rows = await this.db.all<TaskRow>(`SELECT ${COLUMNS} FROM tasks WHERE type = ?`, [type]);
    return rows.map(fromRow);
  }

  /** Recorded before the run starts, so a crash during the run does not repeat it in a loop. */
  async markScheduled(id: number, at: number): Promise<void> {
    await this.db.run('UPDATE tasks SET last_scheduled_at = ? WHERE id = ?', [at, id]);
  }

  /** Removes the task and, through the foreign key, every result it published. */
  async delete(orgId: string, id: number): Promise<boolean> {
    const { changes } = await this.db.run('DELETE FROM tasks WHERE org_id = ? AND id = ?', [
      orgId,
      id,
    ]);
    return changes === 1;
  }

  async list(orgId: string): Promise<TaskRecord[]> {
    const rows = await this.db.all<TaskRow>(
      `SELECT ${COLUMNS} FROM tasks WHERE org_id = ? ORDER BY name`,
      [orgId],
    );
    return rows.map(fromRow);
  }

  /** Scoped by organisation: another organisation's task is indistinguishable from a missing one. */
  byToken(orgId: string, token: string): Promise<TaskRecord | undefined> {
    return this.one('token = ?', orgId, token);
  }

  byId(orgId: string, id: number): Promise<TaskRecord | undefined> {
    return this.one('id = ?', orgId, id);
  }

  byName(orgId: string, name: string): Promise<TaskRecord | undefined> {
    return this.one('name = ?', orgId, name);
  }

  private async one(
    condition: string,
    orgId: string,
    value: string | number,
  ): Promise<TaskRecord | undefined> {
    const row = await this.db.get<TaskRow>(
      `SELECT ${COLUMNS} FROM tasks WHERE org_id = ? AND ${condition}`,
      [orgId, value],
    );
    return row && fromRow(row);
  }

  /** Task ids are numeric and tokens always start with a letter, so one parameter can carry either. */
  byIdOrToken(orgId: string, ref: string): Promise<TaskRecord | undefined> {
    return /^\d{1,15}$/.test(ref) ? this.byId(orgId, Number(ref)) : this.byToken(orgId, ref);
  }
}

function checkName(name: string): void {
  if (!TASK_NAME.test(name)) {
    throw new AppError('INVALID_PARAMETER', {
      detail: `Task name "${name}" is not valid: use 1 to 100 characters without leading or trailing spaces.`,
    });
  }
}

function fromRow(row: TaskRow): TaskRecord {
  return {
    ...row,
    prefetch: JSON.parse(row.prefetch) as PrefetchSpec[],
    schedule: row.schedule === null ? null : (JSON.parse(row.schedule) as Schedule),
  };
}
