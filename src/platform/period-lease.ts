// The scheduler's lease in server mode: one row per (task, due time) in PostgreSQL, so a period runs once.
import pg from 'pg';
import type { PeriodLease } from '../air/index.ts';

/** Claims older than this are removed: a period is never due again once its task has run. */
const KEEP_DAYS = 30;

/**
 * A claim whose period is still due this long after it was made belongs to a server that died
 * between its claim and the start (which records the task's last scheduled time, so that the
 * period is no longer due): another server may claim it then. Starting a run takes seconds, so a
 * live server is never overtaken; the period runs again at most when its first server died.
 */
export const CLAIM_LEASE_SECONDS = 300;

/**
 * The first server to insert the (task, due time) row runs that period; every other server's
 * insert finds it there. A server that claims a period and cannot start the run (the run cap)
 * deletes its row, so the next tick, on any server, tries again. A server that dies between its
 * claim and the start leaves the period due (the task's last scheduled time did not move) and its
 * row behind: once the row is CLAIM_LEASE_SECONDS old, the next claim takes it over, so the task
 * is not stuck behind a dead server's claim.
 */
export class PgPeriodLease implements PeriodLease {
  readonly #pool: pg.Pool;
  #ready: Promise<unknown> | undefined;

  constructor(url: string) {
    this.#pool = new pg.Pool({ connectionString: url, max: 1 });
    // An idle client's error (the database restarted) must not crash the server.
    this.#pool.on('error', () => undefined);
  }

  async claim(taskId: number, dueAt: number): Promise<boolean> {
    await this.#schema();
    const { rowCount } = await this.#pool.query(
      `INSERT INTO opencloak_periods (task_id, due_at, claimed_at) VALUES ($1, $2, now())
       ON CONFLICT (task_id, due_at) DO UPDATE SET claimed_at = now()
       WHERE opencloak_periods.claimed_at < now() - make_interval(secs => $3)`,
      [taskId, dueAt, CLAIM_LEASE_SECONDS],
    );
    return rowCount === 1;
  }

  async release(taskId: number, dueAt: number): Promise<void> {
    await this.#pool.query('DELETE FROM opencloak_periods WHERE task_id = $1 AND due_at = $2', [
      taskId,
      dueAt,
    ]);
  }

  close(): Promise<void> {
    return this.#pool.end();
  }

  #schema(): Promise<unknown> {
    // Under a lock: two servers starting at once would otherwise race on the catalogue.
    this.#ready ??= this.#pool
      .query(
        `BEGIN;
         SELECT pg_advisory_xact_lock(hashtext('opencloak_periods:schema'));
         CREATE TABLE IF NOT EXISTS opencloak_periods (
           task_id bigint NOT NULL,
           due_at bigint NOT NULL,
           claimed_at timestamptz NOT NULL,
           PRIMARY KEY (task_id, due_at)
         );
         DELETE FROM opencloak_periods WHERE claimed_at < now() - interval '${KEEP_DAYS} days';
         COMMIT`,
      )
      .catch((error: unknown) => {
        this.#ready = undefined;
        throw error;
      });
    return this.#ready;
  }
}
