// Streaming tasks: run a user's task whenever their data arrives, keep their latest properties and
// accumulator in cloak.db, and anonymize the properties of recently seen users into a report.
import {
  anonymize,
  BucketAggregator,
  DEFAULT_ANONYMIZER_SETTINGS,
  userKey,
  type AnonymizerSettings,
} from '../../anonymizer/index.ts';
import type { UserInput, UserOutcome } from '../../sandbox/index.ts';
import type { AnonymizedResult, TaskSpec } from '../../shared/index.ts';
import type { Db } from '../../store/index.ts';
import { requireSync, type CloakDataStore } from '../data/index.ts';
import type { ParticipationBudget } from '../participation-budget.ts';
import { SandboxPool } from '../sandbox-pool.ts';
import type { TaskRunner } from '../task-runner.ts';
import { taskQuestion } from '../task-question.ts';
import { publishedCounts, steadyCounts } from './steady-counts.ts';
import { prepareStreamingTables } from './streaming-schema.ts';

/** Users read and run per step: bounds memory whatever arrives at once. */
const USERS_PER_STEP = 512;

type StreamedUser = UserInput & { userId: string };

interface Registered {
  orgId: string;
  spec: TaskSpec;
}

export interface StreamingOptions {
  secret: Uint8Array;
  anonymizer?: Readonly<AnonymizerSettings>;
  /** Reports are charged like any run: a streaming task is no way around the budget. */
  budget?: ParticipationBudget;
  /** Sandbox processes a pass keeps busy at once (cloak.sandboxProcesses). */
  processes?: number;
}

/**
 * The air registers each streaming task (by its token) with its validated JavaScript and prefetch,
 * and asks for reports; everything about single users stays here. State survives restarts: a
 * task's position in the arrival sequence, and each user's properties and accumulator.
 */
export class StreamingEngine {
  readonly #tasks = new Map<string, Registered>();
  #processing: Promise<number> | undefined;
  #timer: NodeJS.Timeout | undefined;

  constructor(
    private readonly db: Db,
    private readonly data: CloakDataStore,
    private readonly runner: TaskRunner,
    private readonly options: StreamingOptions,
  ) {
    prepareStreamingTables(db);
  }

  /**
   * Starts (or, with a new spec, changes) a task; null stops it and forgets its users. A new task
   * starts with the data already stored: every user with rows runs once.
   */
  register(orgId: string, taskKey: string, spec: TaskSpec | null): void {
    if (spec === null) {
      this.#tasks.delete(taskKey);
      this.db.prepare('DELETE FROM streaming_users WHERE task_key = ?').run(taskKey);
      this.db.prepare('DELETE FROM streaming_tasks WHERE task_key = ?').run(taskKey);
      return;
    }
    const checked = this.runner.validate(orgId, spec);
    const core = requireSync(this.data, 'StreamingEngine.register');
    for (const table of new Set(checked.prefetch.map((p) => p.table))) {
      core.indexArrivals(orgId, table);
    }
    this.db
      .prepare(
        'INSERT INTO streaming_tasks (task_key, org_id, next_seq) VALUES (?, ?, 0) ON CONFLICT DO NOTHING',
      )
      .run(taskKey, orgId);
    this.#tasks.set(taskKey, { orgId, spec: checked });
  }

  /** Processes arrivals every `intervalMs` until `stop`. */
  start(intervalMs: number): void {
    this.#timer = setInterval(() => void this.process().catch(() => undefined), intervalMs);
    this.#timer.unref();
  }

  async stop(): Promise<void> {
    clearInterval(this.#timer);
    await this.#processing?.catch(() => undefined);
  }

  /** Runs every user whose data arrived since the last call, for every task; one pass at a time. */
  process(now = Date.now()): Promise<number> {
    this.#processing ??= this.#processAll(now).finally(() => (this.#processing = undefined));
    return this.#processing;
  }

  async #processAll(now: number): Promise<number> {
    let users = 0;
    for (const [taskKey, task] of [...this.#tasks])
      users += await this.#processTask(taskKey, task, now);
    return users;
  }

  async #processTask(taskKey: string, task: Registered, now: number): Promise<number> {
    const state = this.db
      .prepare(
        'SELECT next_seq AS nextSeq, pass_target AS passTarget FROM streaming_tasks WHERE task_key = ?',
      )
      .get(taskKey) as { nextSeq: number; passTarget: number | null } | undefined;
    if (!state) return 0;
    const tables = task.spec.prefetch.map((p) => p.table);
    // A pass that a crash cut off is finished first, with its own target (streaming-schema.ts).
    const { userIds, nextSeq } = await this.data.arrivedSince(
      task.orgId,
      tables,
      state.nextSeq,
      state.passTarget ?? undefined,
    );
    if (userIds.length === 0) {
      this.#passDone(taskKey, nextSeq);
      return 0;
    }
    if (state.passTarget === null) {
      this.db
        .prepare('UPDATE streaming_tasks SET pass_target = ? WHERE task_key = ?')
        .run(nextSeq, taskKey);
    }
    const lookup = await this.data.lookupReader(task.orgId);
    const compile = () => this.runner.compile(task.orgId, task.spec.code, lookup);
    // Steps run on every core, asynchronously: the API never waits for one user's run (a task
    // that loops for one user would otherwise show in every request's latency).
    const pool = new SandboxPool<StreamedUser>(compile, compile(), this.options.processes ?? 1);
    const save = (users: StreamedUser[], outcomes: UserOutcome[]) =>
      this.#save(taskKey, users, outcomes, now, nextSeq);
    try {
      for (let i = 0; i < userIds.length; i += USERS_PER_STEP) {
        const step = await this.#readStep(taskKey, task, userIds.slice(i, i + USERS_PER_STEP), now);
        if (step.length > 0) await pool.submit(step, save);
        if (!this.#tasks.has(taskKey)) return i;
      }
      await pool.drain();
    } finally {
      await pool.dispose();
    }
    this.#passDone(taskKey, nextSeq);
    return userIds.length;
  }

  /** Every user of the pass ran: the next pass starts at its target. */
  #passDone(taskKey: string, target: number): void {
    this.db
      .prepare('UPDATE streaming_tasks SET next_seq = ?, pass_target = NULL WHERE task_key = ?')
      .run(target, taskKey);
  }

  /**
   * The step's users with their rows and stored accumulators, but for those this pass already
   * ran before a crash (their through_seq reaches its target): they must not run twice.
   */
  async #readStep(
    taskKey: string,
    task: Registered,
    userIds: string[],
    now: number,
  ): Promise<StreamedUser[]> {
    const target = this.db
      .prepare('SELECT pass_target AS target FROM streaming_tasks WHERE task_key = ?')
      .pluck()
      .get(taskKey) as number | null;
    const rows = this.db
      .prepare(
        `SELECT user_id AS userId, accumulator, through_seq AS throughSeq FROM streaming_users
         WHERE task_key = ? AND user_id IN (SELECT value FROM json_each(?))`,
      )
      .all(taskKey, JSON.stringify(userIds)) as Array<{
      userId: string;
      accumulator: string | null;
      throughSeq: number | null;
    }>;
    const done = new Set(
      rows.filter((r) => target !== null && (r.throughSeq ?? -1) >= target).map((r) => r.userId),
    );
    const stored = new Map(
      rows.map((r) => [r.userId, r.accumulator === null ? undefined : JSON.parse(r.accumulator)]),
    );
    const todo = userIds.filter((id) => !done.has(id));
    const step: StreamedUser[] = [];
    for await (const u of this.data.streamUsers(task.orgId, task.spec.prefetch, now, todo)) {
      step.push({ userId: u.userId, tables: u.tables, accumulator: stored.get(u.userId) });
    }
    return step;
  }

  /** Each user's new state with the pass's target, in one transaction (streaming-schema.ts). */
  #save(
    taskKey: string,
    users: StreamedUser[],
    outcomes: UserOutcome[],
    now: number,
    target: number,
  ): void {
    // A task stopped while its users ran has forgotten them: nothing of theirs is kept.
    if (!this.#tasks.has(taskKey)) return;
    const save = this.db.prepare(
      `INSERT INTO streaming_users
         (task_key, user_id, properties, error, accumulator, updated_at, through_seq)
       VALUES (?, ?, ?, ?, ?, ?, ?)
       ON CONFLICT (task_key, user_id) DO UPDATE SET properties = excluded.properties,
         error = excluded.error, accumulator = excluded.accumulator,
         updated_at = excluded.updated_at, through_seq = excluded.through_seq`,
    );
    this.db.transaction(() => {
      users.forEach((user, i) => {
        const outcome = outcomes[i] as UserOutcome;
        const properties = outcome.ok ? outcome.properties : [];
        save.run(
          taskKey,
          user.userId,
          JSON.stringify(properties),
          outcome.ok ? null : outcome.error,
          outcome.accumulator === undefined ? null : JSON.stringify(outcome.accumulator),
          now,
          target,
        );
      });
    })();
  }

  /**
   * The anonymized properties (and exceptions) of the users whose task ran within the last
   * `userExpireSeconds`. Counts that moved less than the noise could explain keep their last
   * published value (steady-counts.ts), so a report does not flicker.
   */
  report(
    orgId: string,
    taskKey: string,
    userExpireSeconds: number,
    now = Date.now(),
  ): AnonymizedResult {
    const task = this.#tasks.get(taskKey);
    if (task === undefined || task.orgId !== orgId) {
      throw new Error(`streaming task ${taskKey} is not registered for this organisation`);
    }
    const settings = this.options.anonymizer ?? DEFAULT_ANONYMIZER_SETTINGS;
    const question = taskQuestion(task.spec);
    const participation = this.options.budget?.startRun(orgId, settings, undefined, question);
    const aggregator = participation ?? new BucketAggregator();
    const rows = this.db
      .prepare(
        `SELECT user_id AS userId, properties, error FROM streaming_users
         WHERE task_key = ? AND updated_at >= ?`,
      )
      .iterate(taskKey, now - userExpireSeconds * 1000) as Iterable<{
      userId: string;
      properties: string;
      error: string | null;
    }>;
    for (const row of rows) {
      const key = userKey(this.options.secret, row.userId);
      if (row.error !== null) aggregator.addException(row.error, key);
      for (const [label, value] of JSON.parse(row.properties) as Array<[string, string]>) {
        aggregator.addProperty(label, value, key);
      }
    }
    let fresh: AnonymizedResult;
    try {
      const settled = participation?.settle();
      fresh = anonymize(
        settled?.aggregator ?? (aggregator as BucketAggregator),
        this.options.secret,
        settings,
        undefined,
        question,
      );
      if (settled) fresh.budget = settled.notice;
    } finally {
      // Deletes the run's temporary user logs, if it grew large enough to have any.
      participation?.close();
    }
    const last = this.db
      .prepare('SELECT last_report AS lastReport FROM streaming_tasks WHERE task_key = ?')
      .get(taskKey) as { lastReport: string | null } | undefined;
    const previous = last?.lastReport
      ? new Map(JSON.parse(last.lastReport) as Array<[string, number]>)
      : new Map<string, number>();
    const result = steadyCounts(previous, fresh, settings);
    this.db
      .prepare('UPDATE streaming_tasks SET last_report = ? WHERE task_key = ?')
      .run(JSON.stringify([...publishedCounts(result)]), taskKey);
    return result;
  }
}
