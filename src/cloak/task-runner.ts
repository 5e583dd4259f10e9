// Runs a task for an organisation: prefetch, sandbox once per user, count distinct users, anonymize.
import {
  anonymize,
  BucketAggregator,
  DEFAULT_ANONYMIZER_SETTINGS,
  unchargedSettings,
  type AnonymizerSettings,
  type UserKey,
} from '../anonymizer/index.ts';
import { AppError } from '../errors/index.ts';
import {
  compileTask,
  TaskCompileError,
  type SandboxLimits,
  type SandboxProcessCache,
  type UserInput,
  type UserOutcome,
} from '../sandbox/index.ts';
import {
  type AccessLevel,
  type AnonymizedResult,
  type BudgetNotice,
  type BudgetPreview,
  type PrefetchSpec,
  type RunControl,
  type TaskSpec,
} from '../shared/index.ts';
import {
  requireSync,
  type CloakDataStore,
  type LookupReader,
  type SqliteDataCore,
  type TableInfo,
} from './data/index.ts';
import { taskQuestion } from './task-question.ts';
import type { ParticipationBudget } from './participation-budget.ts';
import { MembershipLog } from './membership-log.ts';
import type { ReleaseSchedule } from './release-schedule.ts';
import { RunCap } from './run-cap.ts';
import { RunTracker } from './run-tracker.ts';
import { SandboxPool } from './sandbox-pool.ts';
import {
  checkSqlTask,
  checkSqlTaskAsync,
  feedSqlGroups,
  type UserFeed,
} from './sql-task/sql-task-run.ts';
import { trySqlTask } from './sql-task/try-sql-task.ts';
import { UserKeyCache } from './user-key-cache.ts';
import type { TestUserInput, TestUserResult } from './test-users.ts';
import { readSpec } from './task-spec.ts';
import { compileTypeScriptTask } from './typescript-task.ts';
import type { ShardFeeder } from './distributed/index.ts';

/**
 * Users sent to the sandbox in one exchange. Larger batches amortize the hand-over between
 * processes; smaller ones bound how far a run can overshoot its deadline (every user of a batch
 * has its own time limit) and how long the event loop waits between batches.
 */
const USERS_PER_BATCH = 128;

/** How a run meets the participation budget: charged, a dry run that is not, or not at all. */
type BudgetMode = 'charged' | 'preview' | 'none';

/** What a preview says when the run would not be charged, so there is nothing to estimate. */
const NOT_BUDGETED = {
  trusted:
    'Your runs of this task are trusted: they are not charged to the participation budget and ' +
    'leave nobody out, so there is no cost to preview (docs/anonymization.md, "Access levels").',
  off:
    'The participation budget is off on this installation (privacy.participationBudget): runs ' +
    'are not charged and leave nobody out, so there is no cost to preview.',
};

export interface TaskRunnerOptions {
  secret: Uint8Array;
  limits: SandboxLimits;
  /** Whole-run limit; the cloak API's synchronous runs default to 2 minutes. */
  runTimeoutSeconds: number;
  /**
   * Sandbox processes one run keeps busy at once (cloak.sandboxProcesses, default the cores);
   * extra processes start only when a run has more than one batch of users.
   */
  processes?: number;
  /** Anonymizer parameters; the defaults unless a test weakens them to show an attack is real. */
  anonymizer?: Readonly<AnonymizerSettings>;
  /** Charged for every fresh bucket; users who ran out are left out of fresh buckets. */
  budget?: ParticipationBudget;
  /** When answers may leave (release-schedule.ts); without it a run answers when it ends. */
  release?: ReleaseSchedule;
  /** Runs in progress per organisation, over every API (cloak.maxRunsPerOrganisation; default 2). */
  maxRunsPerOrganisation?: number;
  /**
   * The question a run's noise is drawn for (task-question.ts: a hash of the code and the data
   * selection). Only tests set it, to show that two spellings with the same meaning (a sql task
   * and its JavaScript twin) publish the same under the same question; never configurable, since
   * one question for different tasks reopens the rerun-difference attack.
   */
  questionOf?: (task: TaskSpec) => Uint8Array;
  /**
   * Server mode: a script task's users run on `opencloak worker` processes over the job queue
   * (distributed/); counting, settlement and anonymization stay here, as in-process.
   */
  shards?: ShardFeeder;
  /** Server mode: the run cap counted in the database, across every API server. */
  runCap?: RunCapLike;
  /**
   * Idle sandbox processes kept between an organisation's runs (src/sandbox/process-cache.ts);
   * without it every run starts its own processes.
   */
  processCache?: SandboxProcessCache;
}

/** The run cap's two calls (run-cap.ts); server mode's counts runs in the database too. */
export type RunCapLike = Pick<RunCap, 'check' | 'count'>;

export class TaskRunner {
  readonly #cap: RunCapLike;
  readonly #userKeys: UserKeyCache;
  /** Runs in progress in this process: ids, logs, and the drain at shutdown. */
  readonly runs: RunTracker;

  constructor(
    private readonly data: CloakDataStore,
    private readonly options: TaskRunnerOptions,
  ) {
    this.#cap = options.runCap ?? new RunCap(options.maxRunsPerOrganisation ?? 2);
    this.runs = new RunTracker();
    this.#userKeys = new UserKeyCache(options.secret);
  }

  /**
   * Throws TOO_MANY_RUNS when the organisation already has its cap of runs in progress (their
   * sandbox work still alive, or their answer not yet released), started through any API. A
   * caller that must refuse before answering (an async run) checks here; `run` checks again.
   */
  checkRunCap(orgId: string): void {
    this.runs.checkAccepting();
    this.#cap.check(orgId);
  }

  /**
   * Rejects a task that cannot run: bad prefetch (unknown table or column) or code that does not
   * parse, or TypeScript with type errors against the selected tables. Returns the JavaScript to
   * run (TypeScript transpiled) and the checked prefetch.
   */
  validate(orgId: string, spec: unknown): TaskSpec {
    const core = requireSync(this.data, 'Task validation (CloakPort.validateTask)');
    const { code, prefetch, language } = readSpec(spec);
    if (language === 'sql')
      return checkSqlTask((query) => core.compileSqlTask(orgId, query), code, prefetch);
    const checked = core.validatePrefetch(orgId, prefetch);
    const tables = [...new Set(checked.map((p) => p.table))].map((name) =>
      core.getTable(orgId, name)!,
    );
    return this.#checkScript(orgId, code, language, checked, tables);
  }

  /** As validate, on any data store (the run path, which server mode takes too). */
  async validateAsync(orgId: string, spec: unknown): Promise<TaskSpec> {
    const { code, prefetch, language } = readSpec(spec);
    if (language === 'sql') return checkSqlTaskAsync(this.data, orgId, code, prefetch);
    const checked = await this.data.validatePrefetch(orgId, prefetch);
    const tables: TableInfo[] = [];
    for (const name of new Set(checked.map((p) => p.table))) {
      tables.push((await this.data.getTable(orgId, name))!);
    }
    return this.#checkScript(orgId, code, language, checked, tables);
  }

  #checkScript(
    orgId: string,
    code: string,
    language: string | undefined,
    checked: PrefetchSpec[],
    tables: readonly TableInfo[],
  ): TaskSpec {
    const javascript = language === 'typescript' ? compileTypeScriptTask(code, tables) : code;
    // Only whether the code compiles: lookup() is not called while compiling.
    void this.compile(orgId, javascript, () => undefined).dispose();
    return { code: javascript, prefetch: checked };
  }

  /**
   * Only the anonymized result leaves this function. A run that fails as a whole (timeout,
   * invalid task) throws and publishes nothing; errors inside one user's run are exceptions.
   * `access` comes from the server's record of the person behind the run, never from the
   * request: a `trusted` run skips the participation budget, and with it the square-root part of
   * the noise that only makes looks cheap for the budget (`unchargedSettings`); nothing else
   * (sticky noise, the low-count filter, the "*" bucket and the release schedule all stay). It
   * must have been audited with its code by the caller before it gets here.
   */
  async run(
    orgId: string,
    spec: unknown,
    control: RunControl = {},
    access: AccessLevel = 'untrusted',
  ): Promise<AnonymizedResult> {
    this.checkRunCap(orgId);
    // Counted in the caller's turn of the event loop (a caller's checkRunCap holds until then),
    // validated inside the count: validation may wait for the store.
    return this.runs.track('run', orgId, control, (tracked) =>
      this.#cap.count(orgId, async (track) => {
        const task = await this.validateAsync(orgId, spec);
        return this.#released(
          orgId,
          task,
          tracked,
          access !== 'trusted' ? 'charged' : 'none',
          track,
        );
      }),
    );
  }

  /**
   * A cost preview: the run exactly as `run` would make it (sandbox, release schedule, access
   * rule), settled against the budget and rolled back (ParticipationBudget.startPreview). Only
   * the notice leaves: no bucket, and no count of buckets, whose number depends on the users.
   * A run that would not be charged (trusted, or no budget) has no cost, and runs nothing.
   */
  async preview(
    orgId: string,
    spec: unknown,
    control: RunControl = {},
    access: AccessLevel = 'untrusted',
  ): Promise<BudgetPreview> {
    const task = await this.validateAsync(orgId, spec);
    if (access === 'trusted') return { budgeted: false, message: NOT_BUDGETED.trusted };
    if (!this.options.budget) return { budgeted: false, message: NOT_BUDGETED.off };
    this.checkRunCap(orgId);
    const { budget } = await this.runs.track('preview', orgId, control, (tracked) =>
      this.#cap.count(orgId, (track) => this.#released(orgId, task, tracked, 'preview', track)),
    );
    return { budgeted: true, ...budget! };
  }

  /**
   * The run answered at its release point, when there is a release schedule. `track` gets the
   * sandbox work, which the run cap counts until it has stopped.
   */
  async #released(
    orgId: string,
    task: TaskSpec,
    control: RunControl,
    mode: BudgetMode,
    track: (work: Promise<unknown>) => void,
  ): Promise<AnonymizedResult> {
    const { release } = this.options;
    if (!release) return this.#compute(orgId, task, control, mode);
    const timeoutSeconds = control.timeoutSeconds ?? this.options.runTimeoutSeconds;
    const scheduled = {
      tableUsers: await this.#tableUsers(orgId, task),
      limitMs: timeoutSeconds * 1000,
      signal: control.signal,
      onProgress: control.onProgress,
    };
    // Between the end of the work and the release point the answer waits: the metrics' queue.
    let answered = false;
    let waiting = false;
    const { events } = this.runs;
    // The real work gets no progress callback: progress follows the schedule, not the data.
    const released = release.release(orgId, scheduled, (signal) => {
      const work = this.#compute(orgId, task, { signal, timeoutSeconds }, mode);
      track(work);
      const wait = () => {
        if (answered) return;
        waiting = true;
        events.awaitingRelease?.(1);
      };
      work.then(wait, wait);
      return work;
    });
    const leave = () => {
      answered = true;
      if (waiting) events.awaitingRelease?.(-1);
    };
    released.then(leave, leave);
    return released;
  }

  #tableUsers(orgId: string, task: TaskSpec): Promise<number> {
    return this.data.userCount(
      orgId,
      task.prefetch.map((p) => p.table),
    );
  }

  async #compute(
    orgId: string,
    task: TaskSpec,
    control: RunControl,
    mode: BudgetMode,
  ): Promise<AnonymizedResult> {
    const { signal, onProgress } = control;
    const total = onProgress ? await this.#tableUsers(orgId, task) : 0;
    let done = 0;
    onProgress?.({ done, total });
    const timeoutSeconds = control.timeoutSeconds ?? this.options.runTimeoutSeconds;
    const deadline = Date.now() + timeoutSeconds * 1000;
    const { budget, secret } = this.options;
    const configured = this.options.anonymizer ?? DEFAULT_ANONYMIZER_SETTINGS;
    const settings = mode !== 'none' && budget ? configured : unchargedSettings(configured);
    const question = (this.options.questionOf ?? taskQuestion)(task);
    const participation =
      mode === 'charged' ? await budget?.startRun(orgId, settings, secret, question) : undefined;
    // A preview collects what a charged run would; its settlement returns only the notice.
    const preview =
      mode === 'preview'
        ? await budget?.startPreview(orgId, settings, secret, question)
        : undefined;
    const aggregator = participation ?? preview ?? new BucketAggregator();
    // Each user's properties, for the suppression bucket (the budget keeps its own).
    const keepsMemberships = aggregator instanceof BucketAggregator;
    const memberships = new MembershipLog();
    // The user logs' temporary files go when the run ends, published or not.
    const closeLogs = () => {
      participation?.close();
      preview?.close();
      memberships.close();
    };
    const countKey = (key: UserKey, outcome: UserOutcome) => {
      if (outcome.ok) {
        for (const [label, value] of outcome.properties) aggregator.addProperty(label, value, key);
        if (keepsMemberships && outcome.properties.length > 0) {
          memberships.add(key, outcome.properties);
        }
      } else {
        aggregator.addException(outcome.error, key);
      }
    };
    const count = (userId: string, outcome: UserOutcome) =>
      countKey(this.#userKeys.of(userId), outcome);
    // Cancelling, or the whole-run limit, stops the run at once: the sandbox processes are
    // killed mid-batch (#feedSandbox), so a stopped run's work ends within moments.
    let stopped: AppError | undefined;
    const stoppers = new Set<() => void>();
    const stop = (reason: AppError) => {
      stopped ??= reason;
      for (const halt of stoppers) halt();
    };
    const onAbort = () => stop(new AppError('TASK_RUN_CANCELLED'));
    signal?.addEventListener('abort', onAbort, { once: true });
    const limit = setTimeout(
      () => stop(new AppError('TASK_RUN_TIMEOUT', { seconds: timeoutSeconds })),
      Math.max(0, deadline - Date.now()),
    );
    const checkRun = () => {
      if (stopped) throw stopped;
      if (signal?.aborted) throw new AppError('TASK_RUN_CANCELLED');
      if (Date.now() > deadline) {
        throw new AppError('TASK_RUN_TIMEOUT', { seconds: timeoutSeconds });
      }
    };
    const feed: UserFeed = {
      count,
      checkRun,
      onUsers: (users) => {
        this.runs.events.usersProcessed?.(users);
        done += users;
        onProgress?.({ done, total: Math.max(total, done) });
      },
      // A stopper registered after the stop (processes started while the cancel landed) halts at once.
      onStop: (halt) => (stopped ? halt() : stoppers.add(halt)),
    };
    try {
      checkRun();
      // A sql task's per-user groups come from the store's own SQL, a script's from the sandbox;
      // both enter the same count, budget and anonymizer.
      if (task.language === 'sql') {
        await feedSqlGroups(this.data, orgId, task.code, this.options.limits, feed);
      } else if (this.options.shards) {
        const run = { orgId, task, limits: this.options.limits, now: Date.now() };
        await this.options.shards.feed(run, { ...feed, count: countKey });
      } else {
        await this.#feedSandbox(orgId, task, feed);
      }
    } catch (error) {
      closeLogs();
      // A batch killed by the stop fails as "disposed"; the run failed because it was stopped.
      throw stopped ?? error;
    } finally {
      clearTimeout(limit);
      signal?.removeEventListener('abort', onAbort);
    }
    try {
      if (preview) return previewResult(await preview.settle());
      // With the budget the suppression bucket is settled (and charged) with the rest.
      if (participation) {
        const settled = await participation.settle();
        // Each kept user paid the bucket's price once (a bucket seen before costs nothing).
        const rho = settled.settled.reduce((sum, b) => sum + b.cost * b.kept, 0);
        this.runs.events.budgetCharged?.(rho);
        const result = anonymize(
          settled.aggregator,
          this.options.secret,
          settings,
          { bucket: settled.suppression },
          question,
        );
        return { ...result, budget: settled.notice };
      }
      return anonymize(
        aggregator as BucketAggregator,
        this.options.secret,
        settings,
        { memberships },
        question,
      );
    } finally {
      closeLogs();
    }
  }

  /** Runs the script once per user in the sandbox processes, a batch of users at a time. */
  async #feedSandbox(orgId: string, task: TaskSpec, feed: UserFeed): Promise<void> {
    const lookup = await this.data.lookupReader(orgId);
    const program = this.compile(orgId, task.code, lookup);
    const pool = new SandboxPool<{ userId: string; tables: UserInput['tables'] }>(
      () => this.compile(orgId, task.code, lookup),
      program,
      this.options.processes ?? 1,
    );
    feed.onStop?.(() => void pool.dispose());
    let finished = false;
    try {
      const afterBatch = (users: Array<{ userId: string }>, outcomes: UserOutcome[]) => {
        users.forEach((user, i) => feed.count(user.userId, outcomes[i]!));
        feed.onUsers?.(users.length);
      };
      let batch: Array<{ userId: string; tables: UserInput['tables'] }> = [];
      for await (const user of this.data.streamUsers(orgId, task.prefetch as PrefetchSpec[])) {
        batch.push(user);
        if (batch.length < USERS_PER_BATCH) continue;
        // Waits only while every sandbox process is busy: the stream reads ahead one batch.
        await pool.submit(batch, afterBatch);
        feed.checkRun();
        batch = [];
      }
      if (batch.length > 0) await pool.submit(batch, afterBatch);
      await pool.drain();
      feed.checkRun();
      finished = true;
    } finally {
      // A stopped or failed run's processes are killed; a finished run's idle ones may serve the
      // organisation's next run (options.processCache).
      await (finished ? pool.release() : pool.dispose());
    }
  }

  /**
   * Whether a sandbox process starts and runs a task (for readiness): one tiny user, no data, no
   * organisation's lookup tables. Rejects with the reason when it cannot.
   */
  async sandboxCheck(): Promise<void> {
    const program = compileTask(SANDBOX_CHECK_CODE, this.options.limits);
    try {
      const [outcome] = await program.runUsers([{ tables: {} }]);
      if (!outcome?.ok) throw new Error(`the sandbox check task failed: ${outcome?.error}`);
    } finally {
      await program.dispose();
    }
  }

  /** "Try it" for a sql task: its query over the test users' rows only (try-sql-task.ts). */
  trySql(orgId: string, code: string, users: readonly TestUserInput[]): Promise<TestUserResult[]> {
    return trySqlTask(this.data, orgId, code, users, this.options.limits);
  }

  /**
   * The task compiled for this organisation (its lookup tables, through `lookup`, by default the
   * embedded store's own; see CloakDataStore.lookupReader), with the runner's limits.
   */
  compile(orgId: string, code: string, lookup?: LookupReader) {
    const answer =
      lookup ?? embeddedLookup(requireSync(this.data, 'lookup() without a reader'), orgId);
    try {
      const reuse = this.options.processCache?.scoped(orgId);
      return compileTask(code, this.options.limits, { lookup: answer }, reuse);
    } catch (error) {
      if (error instanceof TaskCompileError) {
        throw new AppError('INVALID_TASK_CODE', { detail: error.message });
      }
      throw error;
    }
  }
}

/** What the readiness check runs: it must report, so that a sandbox that runs nothing fails. */
const SANDBOX_CHECK_CODE = 'report_property("ready", 1);';

function embeddedLookup(core: SqliteDataCore, orgId: string): LookupReader {
  return (table, key) => core.lookup(orgId, table, key);
}

/** A preview's answer inside the runner: the notice alone, nothing that came from a bucket. */
function previewResult(notice: BudgetNotice): AnonymizedResult {
  return { buckets: [], exceptions: [], budget: notice };
}
