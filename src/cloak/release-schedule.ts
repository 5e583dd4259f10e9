// When a run's answer may leave the cloak: at release points that depend only on public inputs.
import { AppError } from '../errors/index.ts';
import type { RunProgress } from '../shared/index.ts';
import type { SqlDb } from '../store/index.ts';
import { migrateReleaseTables } from './release-schema.ts';

/*
 * Why. A run's duration depends on each user's data: task code can loop, or fail, for one user
 * only, and any answer that leaves the cloak as soon as the run ends tells the analyst how long
 * it took (test/attacks/timing-channel measured kappa 0.92 that way). So do the moments at which
 * progress moves, and the final "users done" of a filtered run is an exact count.
 *
 * What. Predictive mitigation (Askarov, Zhang and Myers, "Predictive black-box mitigation of
 * timing channels", CCS 2010). Every organisation has an epoch e, kept in cloak.db. A run over
 * tables with N users (before filters, rounded up to a power of two) is answered at
 *
 *   start + min(slot(e), limit),   slot(e) = 2^e * (baseMs + perUserMs * N)
 *
 * however early it finished. A run still busy at its release point was mispredicted: the
 * organisation's epoch rises to e + 1 (for every later run too) and the next point is slot(e + 1).
 * A run busy at its whole-run limit fails there with TASK_RUN_TIMEOUT. Progress is reported on a
 * timer as the elapsed share of the current slot, never from the real work.
 *
 * Coming down. A misprediction can come from machine load rather than the data, and an epoch that
 * never fell kept an organisation slow for good after one busy hour. So the epoch falls by one for
 * every whole `decayMs` since the organisation's last misprediction: the fall depends only on the
 * clock and on the moment of that misprediction, which the analyst saw already.
 *
 * What it bounds. An analyst sees, per run, only which release point it left at. Each
 * misprediction raises the epoch by one and each decay period lowers it by one, within
 * [0, maxEpoch], so over a time T an organisation sees at most maxEpoch + T / decayMs slow runs
 * (plus one for each run that was already under way when the epoch rose), each saying about one
 * bit about the data; with decayMs 0 the epoch never falls and the bound is maxEpoch. Everything
 * else an analyst can time (the answer, the progress, when the organisation's run cap frees up)
 * follows the schedule. Left: whether a run reached its whole-run limit, and the power-of-two
 * class of the tables' user count (docs/anonymization.md, "Timing").
 *
 * The cost. Answers wait for their release point: a run that fits its slot waits up to the
 * slot's length, and a run that was mispredicted up to twice what it took.
 */

/** How often progress moves while a run waits for its release point. */
const PROGRESS_INTERVAL_MS = 250;

export interface ReleaseScheduleOptions {
  /** The fixed part of the first slot (sandbox start, prefetch, anonymization). */
  baseMs: number;
  /** The per-user part of the first slot. */
  perUserMs: number;
  /** The highest epoch an organisation reaches: slot(maxEpoch) is 2^maxEpoch times the first. */
  maxEpoch: number;
  /** The epoch falls by one per this many ms without a misprediction; 0: it never falls. */
  decayMs: number;
}

/** What a run may use of itself while the schedule decides when it is answered. */
export interface ScheduledRun {
  /** Users in the selected tables before filters: public enough, and not set by the analyst. */
  tableUsers: number;
  /** The run's whole-run limit. */
  limitMs: number;
  signal?: AbortSignal | undefined;
  onProgress?: ((progress: RunProgress) => void) | undefined;
}

/** The size a slot is computed from: a power of two, so one user more or less rarely shows. */
export function publicSize(tableUsers: number): number {
  return 2 ** Math.ceil(Math.log2(Math.max(1, tableUsers)));
}

/** How long after its start a run of `size` users (publicSize) is answered at `epoch`. */
export function slotMs(options: ReleaseScheduleOptions, epoch: number, size: number): number {
  return 2 ** epoch * (options.baseMs + options.perUserMs * size);
}

type Outcome<T> = { ok: true; value: T } | { ok: false; error: unknown };

export class ReleaseSchedule {
  readonly #ready: Promise<void>;

  constructor(
    private readonly db: SqlDb,
    private readonly options: Readonly<ReleaseScheduleOptions>,
    private readonly now: () => number = Date.now,
  ) {
    // Opening stays synchronous; every method waits for the table (and its error, if any).
    this.#ready = migrateReleaseTables(db, now);
    this.#ready.catch(() => undefined);
  }

  /** Resolves when the epochs' table is migrated (or rejects with why it could not be). */
  ready(): Promise<void> {
    return this.#ready;
  }

  /** The organisation's epoch now: the stored one, less one per decay period since it was raised. */
  async epochOf(orgId: string): Promise<number> {
    await this.#ready;
    const row = await this.db.get<{ epoch: number; raised_at: number }>(
      'SELECT epoch, raised_at FROM release_epochs WHERE org_id = ?',
      [orgId],
    );
    if (!row) return 0;
    const { decayMs } = this.options;
    const periods = decayMs > 0 ? Math.floor(Math.max(0, this.now() - row.raised_at) / decayMs) : 0;
    return Math.max(0, row.epoch - periods);
  }

  /** The options this schedule runs with (for showing an organisation's slots). */
  get settings(): Readonly<ReleaseScheduleOptions> {
    return this.options;
  }

  /**
   * Back to epoch 0: the operator's decision, after an organisation's tasks got faster. Each
   * reset lets up to maxEpoch more slow runs through (docs/anonymization.md, "Timing").
   */
  async reset(orgId: string): Promise<void> {
    await this.#ready;
    await this.db.run('DELETE FROM release_epochs WHERE org_id = ?', [orgId]);
  }

  /**
   * Runs `compute` and settles (with its value or its error) at the first release point at which
   * it has finished. Cancelling settles at once with TASK_RUN_CANCELLED: the moment is the
   * analyst's. `compute` gets a signal that aborts when the run is cancelled or hits its limit.
   */
  async release<T>(
    orgId: string,
    run: ScheduledRun,
    compute: (signal: AbortSignal) => Promise<T>,
  ): Promise<T> {
    const started = this.now();
    const size = publicSize(run.tableUsers);
    const stop = new AbortController();
    const cancelled = () => run.signal?.aborted === true;
    if (cancelled()) throw new AppError('TASK_RUN_CANCELLED');
    // Read before the work starts: a database error then fails the run with nothing running.
    let epoch = await this.epochOf(orgId);
    let outcome: Outcome<T> | undefined;
    compute(stop.signal).then(
      (value) => (outcome = { ok: true, value }),
      (error: unknown) => (outcome = { ok: false, error }),
    );
    /** How long after the start the current release point is: the slot, or the limit. */
    const delay = () => Math.min(slotMs(this.options, epoch, size), run.limitMs);
    let done = 0;
    const report = () => {
      const share = (this.now() - started) / delay();
      done = Math.max(done, Math.min(size - 1, Math.floor(size * share)));
      run.onProgress?.({ done, total: size });
    };
    report();
    const ticker = run.onProgress ? setInterval(report, PROGRESS_INTERVAL_MS) : undefined;
    try {
      for (;;) {
        const point = started + delay();
        await waitUntil(point, this.now, run.signal);
        if (cancelled()) throw new AppError('TASK_RUN_CANCELLED');
        if (outcome) break;
        if (point >= started + run.limitMs) {
          await this.#raise(orgId, epoch + 1);
          throw new AppError('TASK_RUN_TIMEOUT', { seconds: run.limitMs / 1000 });
        }
        epoch = await this.#raise(orgId, epoch + 1);
      }
    } catch (error) {
      stop.abort();
      throw error;
    } finally {
      clearInterval(ticker);
    }
    if (!outcome.ok) throw outcome.error;
    run.onProgress?.({ done: size, total: size });
    return outcome.value;
  }

  /**
   * A misprediction: the organisation's epoch is at least `epoch` (up to maxEpoch) and its decay
   * starts again from now. Returns the run's next epoch.
   */
  async #raise(orgId: string, epoch: number): Promise<number> {
    const stored = Math.min(Math.max(epoch, await this.epochOf(orgId)), this.options.maxEpoch);
    await this.db.run(
      `INSERT INTO release_epochs (org_id, epoch, raised_at) VALUES (?, ?, ?)
       ON CONFLICT (org_id) DO UPDATE SET epoch = excluded.epoch, raised_at = excluded.raised_at`,
      [orgId, stored, this.now()],
    );
    return epoch;
  }
}

/** Resolves at `at` (by `now`'s clock), or as soon as `signal` aborts. */
function waitUntil(at: number, now: () => number, signal: AbortSignal | undefined): Promise<void> {
  return new Promise((resolve) => {
    if (signal?.aborted) return resolve();
    const timer = setTimeout(finish, Math.max(0, at - now()));
    signal?.addEventListener('abort', finish, { once: true });
    function finish() {
      clearTimeout(timer);
      signal?.removeEventListener('abort', finish);
      resolve();
    }
  });
}
