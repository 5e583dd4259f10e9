// Streaming tasks: run a user's task whenever their data arrives, keep their latest properties and
// accumulator in the cloak's database, and anonymize the properties of recently seen users into a report.
import {
  anonymize,
  BucketAggregator,
  DEFAULT_ANONYMIZER_SETTINGS,
  unchargedSettings,
  userKey,
  type AnonymizerSettings,
} from '../../anonymizer/index.ts';
import type { UserInput, UserOutcome } from '../../sandbox/index.ts';
import type { AnonymizedResult, TaskSpec } from '../../shared/index.ts';
import type { SqlDb } from '../../store/index.ts';
import { requireSync, type CloakDataStore } from '../data/index.ts';
import type { ParticipationBudget } from '../participation-budget.ts';
import { SandboxPool } from '../sandbox-pool.ts';
import type { TaskRunner } from '../task-runner.ts';
import { taskQuestion } from '../task-question.ts';
import { publishedCounts, steadyCounts } from './steady-counts.ts';
import { StreamingState, type UserOutcomeRow } from './streaming-state.ts';

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
  readonly #state: StreamingState;
  /** The registrations' writes, in order: a pass or report waits for them. */
  #written: Promise<void> = Promise.resolve();
  /** A registration's write that failed, thrown by the next pass or report. */
  #writeFailure: unknown;
  #processing: Promise<number> | undefined;
  #timer: NodeJS.Timeout | undefined;

  constructor(
    db: SqlDb,
    private readonly data: CloakDataStore,
    private readonly runner: TaskRunner,
    private readonly options: StreamingOptions,
  ) {
    this.#state = new StreamingState(db);
  }

  /** Resolves when the streaming tables are migrated (or rejects with why they could not be). */
  ready(): Promise<void> {
    return this.#state.ready();
  }

  /**
   * Starts (or, with a new spec, changes) a task; null stops it and forgets its users. A new task
   * starts with the data already stored: every user with rows runs once.
   */
  register(orgId: string, taskKey: string, spec: TaskSpec | null): Promise<void> {
    // On SQLite validation throws here, to the caller (on PostgreSQL the promise rejects); the
    // database write follows in order (#written), so a caller that does not wait loses nothing.
    if (spec === null) {
      this.#tasks.delete(taskKey);
      return this.#write(async () => {
        // After a registration still validating in the queue (#registerAsync), not before it.
        if (!this.data.sync) this.#tasks.delete(taskKey);
        await this.#state.forgetTask(taskKey);
      });
    }
    if (!this.data.sync) return this.#registerAsync(orgId, taskKey, spec);
    const checked = this.runner.validate(orgId, spec);
    const core = requireSync(this.data, 'StreamingEngine.register');
    for (const table of new Set(checked.prefetch.map((p) => p.table))) {
      core.indexArrivals(orgId, table);
    }
    this.#tasks.set(taskKey, { orgId, spec: checked });
    return this.#write(() => this.#state.addTask(taskKey, orgId));
  }

  /**
   * As register, on a data store that validates asynchronously (PostgreSQL): the validation takes
   * its turn in the queue of writes, so that a stop registered after it is not undone by it. A
   * refused spec (or an index that could not be made) is the caller's error alone, as on SQLite:
   * only a failed database write of the task is kept for the next pass.
   */
  #registerAsync(orgId: string, taskKey: string, spec: TaskSpec): Promise<void> {
    let accepted = false;
    const done = this.#written.then(async () => {
      const checked = await this.runner.validateAsync(orgId, spec);
      for (const table of new Set(checked.prefetch.map((p) => p.table))) {
        await this.data.indexArrivals(orgId, table);
      }
      accepted = true;
      this.#tasks.set(taskKey, { orgId, spec: checked });
      await this.#state.addTask(taskKey, orgId);
    });
    this.#written = done.catch((error: unknown) => {
      if (accepted) this.#writeFailure ??= error;
    });
    return done;
  }

  /** Queues a registration's write after the earlier ones; the returned promise is its outcome. */
  #write(write: () => Promise<void>): Promise<void> {
    const done = this.#written.then(write);
    // The queue goes on after a failed write; the failure reaches whoever awaits `done`, and the
    // next pass or report (a caller that could not wait must still learn of it).
    this.#written = done.catch((error: unknown) => {
      this.#writeFailure ??= error;
    });
    return done;
  }

  /** Waits for the registrations' writes; throws the first that failed since the last check. */
  async #registered(): Promise<void> {
    await this.#written;
    const failure = this.#writeFailure;
    this.#writeFailure = undefined;
    if (failure !== undefined) throw failure;
  }

  /**
   * Processes arrivals every `intervalMs` until `stop`. A pass that fails is told to `onError`
   * (the server logs it) instead of vanishing; passes go on at the next interval.
   */
  start(intervalMs: number, onError: (error: unknown) => void = () => undefined): void {
    this.#timer = setInterval(() => void this.process().catch(onError), intervalMs);
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

  /**
   * Every task's pass, each under its pass lock (StreamingState.exclusivePass): a task whose pass
   * another server runs now is left to it, and its arrivals go to whichever server's next pass.
   * Returns the users this process ran.
   */
  async #processAll(now: number): Promise<number> {
    await this.#registered();
    let users = 0;
    for (const [taskKey, task] of [...this.#tasks]) {
      const ran = await this.#state.exclusivePass(taskKey, () =>
        this.#processTask(taskKey, task, now),
      );
      users += ran ?? 0;
    }
    return users;
  }

  async #processTask(taskKey: string, task: Registered, now: number): Promise<number> {
    const state = await this.#state.position(taskKey);
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
      await this.#state.passDone(taskKey, nextSeq);
      return 0;
    }
    if (state.passTarget === null) await this.#state.startPass(taskKey, nextSeq);
    const lookup = await this.data.lookupReader(task.orgId);
    const compile = () => this.runner.compile(task.orgId, task.spec.code, lookup);
    // Steps run on every core, asynchronously: the API never waits for one user's run (a task
    // that loops for one user would otherwise show in every request's latency).
    const pool = new SandboxPool<StreamedUser>(compile, compile(), this.options.processes ?? 1);
    const save = (users: StreamedUser[], outcomes: UserOutcome[]) =>
      this.#save(taskKey, users, outcomes, now, nextSeq);
    let finished = false;
    try {
      for (let i = 0; i < userIds.length; i += USERS_PER_STEP) {
        const step = await this.#readStep(taskKey, task, userIds.slice(i, i + USERS_PER_STEP), now);
        if (step.length > 0) await pool.submit(step, save);
        if (!this.#tasks.has(taskKey)) return i;
      }
      await pool.drain();
      finished = true;
    } finally {
      // A finished pass's idle processes may serve the organisation's next pass or run.
      await (finished ? pool.release() : pool.dispose());
    }
    await this.#state.passDone(taskKey, nextSeq);
    return userIds.length;
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
    const { target, users: rows } = await this.#state.storedUsers(taskKey, userIds);
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
  async #save(
    taskKey: string,
    users: StreamedUser[],
    outcomes: UserOutcome[],
    now: number,
    target: number,
  ): Promise<void> {
    // A task stopped while its users ran has forgotten them: nothing of theirs is kept.
    if (!this.#tasks.has(taskKey)) return;
    const rows = users.map((user, i): UserOutcomeRow => {
      const outcome = outcomes[i] as UserOutcome;
      return {
        userId: user.userId,
        properties: JSON.stringify(outcome.ok ? outcome.properties : []),
        error: outcome.ok ? null : outcome.error,
        accumulator: outcome.accumulator === undefined ? null : JSON.stringify(outcome.accumulator),
      };
    });
    await this.#state.save(taskKey, rows, now, target);
  }

  /**
   * The anonymized properties (and exceptions) of the users whose task ran within the last
   * `userExpireSeconds`. Counts that moved less than the noise could explain keep their last
   * published value (steady-counts.ts), so a report does not flicker.
   */
  async report(
    orgId: string,
    taskKey: string,
    userExpireSeconds: number,
    now = Date.now(),
  ): Promise<AnonymizedResult> {
    await this.#registered();
    const task = this.#tasks.get(taskKey);
    if (task === undefined || task.orgId !== orgId) {
      throw new Error(`streaming task ${taskKey} is not registered for this organisation`);
    }
    const configured = this.options.anonymizer ?? DEFAULT_ANONYMIZER_SETTINGS;
    const settings = this.options.budget ? configured : unchargedSettings(configured);
    const question = taskQuestion(task.spec);
    const participation = await this.options.budget?.startRun(orgId, settings, undefined, question);
    const aggregator = participation ?? new BucketAggregator();
    let fresh: AnonymizedResult;
    try {
      for await (const row of this.#state.recentUsers(taskKey, now - userExpireSeconds * 1000)) {
        const key = userKey(this.options.secret, row.userId);
        if (row.error !== null) aggregator.addException(row.error, key);
        for (const [label, value] of JSON.parse(row.properties) as Array<[string, string]>) {
          aggregator.addProperty(label, value, key);
        }
      }
      const settled = await participation?.settle();
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
    const last = await this.#state.lastReport(taskKey);
    const previous = last
      ? new Map(JSON.parse(last) as Array<[string, number]>)
      : new Map<string, number>();
    const result = steadyCounts(previous, fresh, settings);
    await this.#state.setLastReport(taskKey, JSON.stringify([...publishedCounts(result)]));
    return result;
  }
}
