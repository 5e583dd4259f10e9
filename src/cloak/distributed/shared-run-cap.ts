// The run cap across API servers: runs in progress counted in PostgreSQL, beside this process's own.
import { randomUUID } from 'node:crypto';
import pg from 'pg';
import { AppError } from '../../errors/index.ts';
import { RunCap } from '../run-cap.ts';
import { describeQueue } from './queue.ts';

/** How often a server says its runs are still alive. */
const HEARTBEAT_MS = 10_000;
/** A run whose server has not said so for this long is gone (the server died): its slot frees. */
const STALE_SECONDS = 60;

/*
 * Why both counts. This process's RunCap answers `check` at once (the cloak API's async runs must
 * refuse before they answer) and holds a run until its sandbox work has stopped; the database
 * count is what makes two API servers one: a run is a row, claimed under a per-organisation
 * advisory lock so that two servers cannot both take the last slot, and deleted when the local
 * count lets go of it. A server that dies leaves rows behind; they free after STALE_SECONDS
 * without a heartbeat. The table goes to the shared migration runner once the Store seam lands
 * (issue 15, item 1); until then it is created here if missing.
 */
export class SharedRunCap {
  readonly #local: RunCap;
  readonly #pool: pg.Pool;
  readonly #mine = new Set<string>();
  readonly #heartbeat: NodeJS.Timeout;
  #ready: Promise<void> | undefined;

  constructor(
    private readonly url: string,
    private readonly maxPerOrganisation: number,
  ) {
    this.#local = new RunCap(maxPerOrganisation);
    this.#pool = new pg.Pool({ connectionString: url, max: 2 });
    // An idle client's error (the database restarted) must not crash the server.
    this.#pool.on('error', () => undefined);
    this.#heartbeat = setInterval(() => void this.#beat(), HEARTBEAT_MS);
    this.#heartbeat.unref();
  }

  /** This process's runs only; the database is asked when the run starts (count). */
  check(orgId: string): void {
    this.#local.check(orgId);
  }

  async count<T>(
    orgId: string,
    start: (track: (work: Promise<unknown>) => void) => Promise<T>,
  ): Promise<T> {
    this.#local.check(orgId);
    const runId = await this.#claim(orgId);
    try {
      return await this.#local.count(orgId, start);
    } finally {
      this.#mine.delete(runId);
      await this.#sql('DELETE FROM opencloak_runs WHERE run_id = $1', [runId]).catch(
        () => undefined,
      );
    }
  }

  /** Runs of the organisation in progress on every server, for tests and operators. */
  async running(orgId: string): Promise<number> {
    await this.#schema();
    const { rows } = await this.#sql(
      `SELECT count(*)::int AS n FROM opencloak_runs
       WHERE org_id = $1 AND heartbeat > now() - make_interval(secs => $2)`,
      [orgId, STALE_SECONDS],
    );
    return (rows[0] as { n: number }).n;
  }

  async close(): Promise<void> {
    clearInterval(this.#heartbeat);
    await this.#pool.end();
  }

  async #claim(orgId: string): Promise<string> {
    await this.#schema();
    const runId = randomUUID();
    const client = await this.#connect();
    // Checked out, the client has no listener of the pool's: a session the server ends meanwhile
    // (a restart) must reject the next statement, not end the process with an unheard 'error'.
    let broken: unknown;
    const hear = (error: Error) => (broken ??= error);
    client.on('error', hear);
    try {
      await client.query('BEGIN');
      await client.query("SELECT pg_advisory_xact_lock(hashtext('opencloak_runs:' || $1))", [
        orgId,
      ]);
      const { rows } = await client.query(
        `SELECT count(*)::int AS n FROM opencloak_runs
         WHERE org_id = $1 AND heartbeat > now() - make_interval(secs => $2)`,
        [orgId, STALE_SECONDS],
      );
      const running = (rows[0] as { n: number }).n;
      if (running >= this.maxPerOrganisation) {
        await client.query('ROLLBACK');
        throw new AppError('TOO_MANY_RUNS', { running });
      }
      await client.query(
        'INSERT INTO opencloak_runs (run_id, org_id, heartbeat) VALUES ($1, $2, now())',
        [runId, orgId],
      );
      await client.query('COMMIT');
      this.#mine.add(runId);
      return runId;
    } catch (error) {
      // TOO_MANY_RUNS leaves a sound client; any other failure ends it (release with an error).
      if (!(error instanceof AppError)) broken ??= error;
      await client.query('ROLLBACK').catch(() => undefined);
      throw this.#unavailable(error);
    } finally {
      if (broken === undefined) client.off('error', hear);
      client.release(broken as Error | undefined);
    }
  }

  async #beat(): Promise<void> {
    if (this.#mine.size === 0) return;
    await this.#sql('UPDATE opencloak_runs SET heartbeat = now() WHERE run_id = ANY($1)', [
      [...this.#mine],
    ]).catch(() => undefined);
  }

  #schema(): Promise<void> {
    this.#ready ??= this.#sql(
      // Under a lock: two servers starting at once would otherwise race on the catalogue.
      `BEGIN;
       SELECT pg_advisory_xact_lock(hashtext('opencloak_runs:schema'));
       CREATE TABLE IF NOT EXISTS opencloak_runs (
         run_id uuid PRIMARY KEY,
         org_id text NOT NULL,
         heartbeat timestamptz NOT NULL
       );
       CREATE INDEX IF NOT EXISTS opencloak_runs_by_org ON opencloak_runs (org_id);
       COMMIT`,
    ).then(
      () => undefined,
      (error: unknown) => {
        this.#ready = undefined;
        throw error;
      },
    );
    return this.#ready;
  }

  async #connect(): Promise<pg.PoolClient> {
    try {
      return await this.#pool.connect();
    } catch (error) {
      throw this.#unavailable(error);
    }
  }

  async #sql(text: string, values: unknown[] = []): Promise<pg.QueryResult> {
    try {
      return await this.#pool.query(text, values);
    } catch (error) {
      throw this.#unavailable(error);
    }
  }

  #unavailable(error: unknown): unknown {
    if (error instanceof AppError) return error;
    return new AppError('RUN_QUEUE_UNAVAILABLE', {
      queue: describeQueue(this.url),
      detail: (error as Error).message,
    });
  }
}
