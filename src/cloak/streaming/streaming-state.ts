// The streaming engine's state in the cloak's database (SQLite or PostgreSQL): each task's place in the arrivals, each user's latest outcome.
import type { SqlDb } from '../../store/index.ts';
import { migrateStreamingTables } from './streaming-schema.ts';

/** Users read per statement when a report pages through a task's users. */
const USERS_PER_PAGE = 1000;

/** The class of PostgreSQL advisory lock a task's pass holds (the budget's settlements: 0x0c1b). */
const PASS_LOCK = 0x0c1c;

/*
 * One pass of a task at a time, across servers. A pass reads the task's place, picks a target,
 * runs the users who arrived before it and saves them: two servers that do this at once over one
 * PostgreSQL database both run the same arrivals, and when new rows arrive between their reads
 * they pick different targets, one overwrites the other's pass_target, and a user saved by the
 * first at its target runs again in the second with the accumulator the first saved: counted
 * twice (and the first's passDone clears the target the second's crash recovery needs).
 *
 * So a pass runs under a transaction-level advisory lock keyed by the task, taken with
 * pg_try_advisory_xact_lock: a server that finds it taken skips the task for this tick (the
 * holder is doing the work; whatever arrives later is the next pass's, on either server) rather
 * than waiting with its other tasks behind it. The transaction only holds the lock and one
 * connection: the pass's reads and writes go through the pool and commit on their own, exactly as
 * without the lock, so a pass's progress survives as before. The lock ends with the holder's
 * session: when its process dies (kill -9), PostgreSQL drops the connection and the lock with it,
 * and the next pass, on any server, finishes the cut-off pass from its pass_target (no lease to
 * expire, no heartbeat). The transaction writes nothing and, at READ COMMITTED, keeps no snapshot
 * between statements, so an open one does not hold back vacuum; an operator's
 * idle_in_transaction_session_timeout shorter than a pass would end it and free the lock early.
 * A host that vanishes without closing its connections (power loss, a partition) holds the lock
 * until PostgreSQL's TCP keepalive gives up on it (tcp_keepalives_idle, two hours by default on
 * Linux; set it lower on the server to bound that). A row lease with an expiry was the other
 * choice: it frees a vanished host's task sooner, but lets a second pass in whenever a live pass
 * outlasts the expiry, which is the double run this prevents.
 *
 * SQLite needs none of this: one server process per data directory (its directory lock), and in
 * the process StreamingEngine runs one pass at a time.
 */

/** Where a task stands in the arrival sequence (streaming-schema.ts, "Exactly once"). */
export interface TaskPosition {
  nextSeq: number;
  /** The target of a pass under way (cut off by a crash, if no pass runs now). */
  passTarget: number | null;
}

/** What the last pass stored for a user. */
export interface StoredUser {
  userId: string;
  accumulator: string | null;
  throughSeq: number | null;
}

/** One user's outcome of a pass, to save. */
export interface UserOutcomeRow {
  userId: string;
  /** JSON of the reported [label, value] pairs. */
  properties: string;
  error: string | null;
  /** JSON of the accumulator, or null. */
  accumulator: string | null;
}

/** A user's latest properties, for a report. */
export interface ReportedUser {
  userId: string;
  properties: string;
  error: string | null;
}

/**
 * The streaming tables behind one async interface. Every write that must be atomic is one
 * statement or one transaction, so two processes on one PostgreSQL database see a pass either
 * saved or not, never half.
 */
export class StreamingState {
  readonly #ready: Promise<void>;

  constructor(private readonly db: SqlDb) {
    this.#ready = migrateStreamingTables(db);
    // Surfaced by the first call that awaits it, not as an unhandled rejection.
    this.#ready.catch(() => undefined);
  }

  ready(): Promise<void> {
    return this.#ready;
  }

  /**
   * Runs `pass` while no other process runs this task's pass (see "One pass of a task at a time"):
   * undefined, at once, when another one holds it.
   */
  async exclusivePass<T>(taskKey: string, pass: () => Promise<T>): Promise<T | undefined> {
    await this.#ready;
    if (this.db.dialect !== 'postgres') return pass();
    return this.db.transaction(async (tx) => {
      const lock = await tx.get<{ taken: boolean }>(
        'SELECT pg_try_advisory_xact_lock(?, hashtext(?)) AS taken',
        [PASS_LOCK, taskKey],
      );
      return lock?.taken ? pass() : undefined;
    });
  }

  /** A task starts at the beginning of the arrivals; an existing one keeps its place. */
  async addTask(taskKey: string, orgId: string): Promise<void> {
    await this.#ready;
    await this.db.run(
      `INSERT INTO streaming_tasks (task_key, org_id, next_seq) VALUES (?, ?, 0)
       ON CONFLICT (task_key) DO NOTHING`,
      [taskKey, orgId],
    );
  }

  /** Forgets a task and every user's state of it. */
  async forgetTask(taskKey: string): Promise<void> {
    await this.#ready;
    await this.db.transaction(async (tx) => {
      await tx.run('DELETE FROM streaming_users WHERE task_key = ?', [taskKey]);
      await tx.run('DELETE FROM streaming_tasks WHERE task_key = ?', [taskKey]);
    });
  }

  async position(taskKey: string): Promise<TaskPosition | undefined> {
    await this.#ready;
    return this.db.get<TaskPosition>(
      'SELECT next_seq AS "nextSeq", pass_target AS "passTarget" FROM streaming_tasks WHERE task_key = ?',
      [taskKey],
    );
  }

  /** Written before the pass's first user runs. */
  async startPass(taskKey: string, target: number): Promise<void> {
    await this.#ready;
    await this.db.run('UPDATE streaming_tasks SET pass_target = ? WHERE task_key = ?', [
      target,
      taskKey,
    ]);
  }

  /** Every user of the pass ran: the next pass starts at its target. */
  async passDone(taskKey: string, target: number): Promise<void> {
    await this.#ready;
    await this.db.run(
      'UPDATE streaming_tasks SET next_seq = ?, pass_target = NULL WHERE task_key = ?',
      [target, taskKey],
    );
  }

  /** What the task stored for these users (at most a step's worth), and its pass's target. */
  async storedUsers(
    taskKey: string,
    userIds: readonly string[],
  ): Promise<{ target: number | null; users: StoredUser[] }> {
    await this.#ready;
    const task = await this.db.get<{ target: number | null }>(
      'SELECT pass_target AS target FROM streaming_tasks WHERE task_key = ?',
      [taskKey],
    );
    const users =
      userIds.length === 0
        ? []
        : await this.db.all<StoredUser>(
            `SELECT user_id AS "userId", accumulator, through_seq AS "throughSeq"
             FROM streaming_users
             WHERE task_key = ? AND user_id IN (${userIds.map(() => '?').join(', ')})`,
            [taskKey, ...userIds],
          );
    return { target: task?.target ?? null, users };
  }

  /** Each user's new state with the pass's target, in one transaction (streaming-schema.ts). */
  async save(
    taskKey: string,
    outcomes: readonly UserOutcomeRow[],
    now: number,
    target: number,
  ): Promise<void> {
    await this.#ready;
    await this.db.transaction(async (tx) => {
      for (const o of outcomes) {
        await tx.run(
          `INSERT INTO streaming_users
             (task_key, user_id, properties, error, accumulator, updated_at, through_seq)
           VALUES (?, ?, ?, ?, ?, ?, ?)
           ON CONFLICT (task_key, user_id) DO UPDATE SET properties = excluded.properties,
             error = excluded.error, accumulator = excluded.accumulator,
             updated_at = excluded.updated_at, through_seq = excluded.through_seq`,
          [taskKey, o.userId, o.properties, o.error, o.accumulator, now, target],
        );
      }
    });
  }

  /**
   * The users whose task ran at or after `since`, a page at a time in user id order, so that a
   * report's memory does not grow with the task's users.
   */
  async *recentUsers(taskKey: string, since: number): AsyncGenerator<ReportedUser> {
    await this.#ready;
    let after: string | undefined;
    for (;;) {
      const page = await this.db.all<ReportedUser>(
        `SELECT user_id AS "userId", properties, error FROM streaming_users
         WHERE task_key = ? AND updated_at >= ?${after === undefined ? '' : ' AND user_id > ?'}
         ORDER BY user_id LIMIT ?`,
        after === undefined
          ? [taskKey, since, USERS_PER_PAGE]
          : [taskKey, since, after, USERS_PER_PAGE],
      );
      yield* page;
      if (page.length < USERS_PER_PAGE) return;
      after = page[page.length - 1]!.userId;
    }
  }

  /** The counts the last report published (JSON), or undefined. */
  async lastReport(taskKey: string): Promise<string | undefined> {
    await this.#ready;
    const row = await this.db.get<{ lastReport: string | null }>(
      'SELECT last_report AS "lastReport" FROM streaming_tasks WHERE task_key = ?',
      [taskKey],
    );
    return row?.lastReport ?? undefined;
  }

  async setLastReport(taskKey: string, counts: string): Promise<void> {
    await this.#ready;
    await this.db.run('UPDATE streaming_tasks SET last_report = ? WHERE task_key = ?', [
      counts,
      taskKey,
    ]);
  }
}
