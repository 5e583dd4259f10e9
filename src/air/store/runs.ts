// Task runs as every API server sees them: state, progress, cancellation requests and the executing server's heartbeat.
import type { SqlDb } from '../../store/index.ts';

/*
 * Why in the database. A run executes on the server that started it, but the analyst's next
 * request (its progress, a cancel) may reach another server behind the same address. Each server
 * keeps its own runs' rows current (progress at most once a second, a heartbeat), and answers for
 * any run from here. A run whose server stopped heartbeating is shown as failed: a run that was
 * cut off published nothing and will not finish (TaskRuns).
 */

export type RunState = 'running' | 'completed' | 'failed' | 'cancelled';

export interface TaskRun {
  id: string;
  /** A run that publishes, or a cost preview that publishes nothing (its result_id stays null). */
  kind: 'run' | 'preview';
  orgId: string;
  taskId: number;
  state: RunState;
  progress: { done: number; total: number };
  startedAt: number;
  finishedAt: number | null;
  /** The published result of a completed run. */
  resultId: number | null;
  /** Why a failed run failed (the error message the API would have answered with). */
  error: string | null;
}

/** Finished runs kept per organisation for GET .../runs; older ones are forgotten first. */
const FINISHED_KEPT = 200;

/** Shown for a run whose server stopped before it finished. */
export const RUN_LOST_MESSAGE =
  'The server running this task stopped before the run finished; nothing was published. Start it again.';

interface RunRow {
  id: string;
  kind: 'run' | 'preview';
  orgId: string;
  taskId: number;
  state: RunState;
  done: number;
  total: number;
  startedAt: number;
  finishedAt: number | null;
  resultId: number | null;
  error: string | null;
  heartbeatAt: number;
}

const COLUMNS = `id, kind, org_id AS "orgId", task_id AS "taskId", state, done, total,
  started_at AS "startedAt", finished_at AS "finishedAt", result_id AS "resultId", error,
  heartbeat_at AS "heartbeatAt"`;

export class RunStore {
  constructor(private readonly db: SqlDb) {}

  async insert(run: TaskRun, now = Date.now()): Promise<void> {
    await this.db.run(
      `INSERT INTO task_runs (id, kind, org_id, task_id, state, done, total, started_at,
         finished_at, result_id, error, heartbeat_at, cancel_requested)
       VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, 0)`,
      [
        run.id,
        run.kind,
        run.orgId,
        run.taskId,
        run.state,
        run.progress.done,
        run.progress.total,
        run.startedAt,
        run.finishedAt,
        run.resultId,
        run.error,
        now,
      ],
    );
  }

  async progress(id: string, progress: { done: number; total: number }): Promise<void> {
    await this.db.run(
      `UPDATE task_runs SET done = ?, total = ? WHERE id = ? AND state = 'running'`,
      [progress.done, progress.total, id],
    );
  }

  /** Records how a run ended, and forgets the organisation's oldest finished runs. */
  async finish(run: TaskRun): Promise<void> {
    await this.db.run(
      `UPDATE task_runs SET state = ?, done = ?, total = ?, finished_at = ?, result_id = ?, error = ?
       WHERE id = ?`,
      [
        run.state,
        run.progress.done,
        run.progress.total,
        run.finishedAt,
        run.resultId,
        run.error,
        run.id,
      ],
    );
    await this.db.run(
      `DELETE FROM task_runs WHERE id IN (
         SELECT id FROM task_runs WHERE org_id = ? AND state <> 'running'
         ORDER BY finished_at DESC, id LIMIT 1000000000 OFFSET ?)`,
      [run.orgId, FINISHED_KEPT],
    );
  }

  /** The executing server's sign of life for its runs; answers which of them were asked to stop. */
  async heartbeat(ids: readonly string[], now = Date.now()): Promise<string[]> {
    if (ids.length === 0) return [];
    const marks = ids.map(() => '?').join(', ');
    await this.db.run(`UPDATE task_runs SET heartbeat_at = ? WHERE id IN (${marks})`, [
      now,
      ...ids,
    ]);
    const rows = await this.db.all<{ id: string }>(
      `SELECT id FROM task_runs WHERE cancel_requested = 1 AND id IN (${marks})`,
      ids,
    );
    return rows.map((r) => r.id);
  }

  /** Asks whichever server runs it to stop it (it sees the request at its next heartbeat). */
  async requestCancel(id: string): Promise<void> {
    await this.db.run(
      `UPDATE task_runs SET cancel_requested = 1 WHERE id = ? AND state = 'running'`,
      [id],
    );
  }

  /** `lostAfterMs`: a running run whose heartbeat is older is shown as failed (its server stopped). */
  async get(id: string, lostAfterMs: number, now = Date.now()): Promise<TaskRun | undefined> {
    const row = await this.db.get<RunRow>(`SELECT ${COLUMNS} FROM task_runs WHERE id = ?`, [id]);
    return row && toRun(row, now - lostAfterMs);
  }

  /** Newest first. */
  async list(
    orgId: string,
    taskId: number,
    lostAfterMs: number,
    now = Date.now(),
  ): Promise<TaskRun[]> {
    const rows = await this.db.all<RunRow>(
      `SELECT ${COLUMNS} FROM task_runs WHERE org_id = ? AND task_id = ?
       ORDER BY started_at DESC, id DESC`,
      [orgId, taskId],
    );
    return rows.map((row) => toRun(row, now - lostAfterMs));
  }
}

function toRun(row: RunRow, aliveSince: number): TaskRun {
  const lost = row.state === 'running' && Number(row.heartbeatAt) < aliveSince;
  return {
    id: row.id,
    kind: row.kind,
    orgId: row.orgId,
    taskId: Number(row.taskId),
    state: lost ? 'failed' : row.state,
    progress: { done: Number(row.done), total: Number(row.total) },
    startedAt: Number(row.startedAt),
    finishedAt: lost
      ? Number(row.heartbeatAt)
      : row.finishedAt === null
        ? null
        : Number(row.finishedAt),
    resultId: row.resultId === null ? null : Number(row.resultId),
    error: lost ? RUN_LOST_MESSAGE : row.error,
  };
}
