// Data types shared by the cloak and the air: task specifications and anonymized results, never raw rows.

/** The column types a user table may declare (see SPEC: "Column types"). */
export type ColumnType =
  'integer' | 'bigint' | 'float' | 'double' | 'boolean' | 'text' | `varchar(${number})`;

export interface ColumnDefinition {
  name: string;
  type: ColumnType;
}

export interface TableDefinition {
  name: string;
  columns: ColumnDefinition[];
}

/** A comparison operator of the prefetch filter language. */
export type ComparisonOperator = '$eq' | '$neq' | '$gt' | '$gte' | '$lt' | '$lte';

export type FilterValue = string | number | boolean | null;

/**
 * One term of a prefetch `where` list: `{"$$col": {"$op": value}}`, `{"$or": [...]}` or
 * `{"$not": term}`. A list of terms means AND.
 */
export type WhereTerm =
  | { [column: `$$${string}`]: Partial<Record<ComparisonOperator, FilterValue>> }
  | { $or: Array<WhereTerm | WhereTerm[]> }
  | { $not: WhereTerm | WhereTerm[] };

export interface PrefetchSpec {
  table: string;
  /** Keep each user's last N rows (arrival order) after filtering. */
  user_rows?: number;
  /** Keep rows that arrived within the last N seconds. */
  time_limit?: number;
  where?: WhereTerm[];
}

/** What the cloak needs to run a task: the data selection and the per-user program. */
export interface TaskSpec {
  prefetch: PrefetchSpec[];
  /**
   * Source run once per user: JavaScript, or TypeScript that the cloak checks and transpiles; or
   * a SQL query (docs/sql.md) that the cloak compiles into its store's own SQL.
   */
  code: string;
  /** Default javascript. */
  language?: TaskLanguage;
}

export const TASK_TYPES = ['batch', 'periodic', 'streaming'] as const;
export type TaskType = (typeof TASK_TYPES)[number];

export const TASK_LANGUAGES = ['javascript', 'typescript', 'sql'] as const;
export type TaskLanguage = (typeof TASK_LANGUAGES)[number];

export interface PublishedBucket {
  label: string;
  value: string;
  count: number;
}

export interface PublishedException {
  error: string;
  count: number;
}

/**
 * What a run charged to the participation budget says about the budget (src/cloak/budget-disclosure.ts):
 * noisy counts, never which users. Snake case: it is served as it is, beside the seed's fields.
 */
export interface BudgetNotice {
  /** Noisy count of users left out of this run's buckets because they had spent the budget. */
  users_left_out: number;
  /** Noisy count of the organisation's users who have spent the budget in this period. */
  users_exhausted: number;
  /** The sd of the noise of both figures. */
  noise_sd: number;
  /** Whether users_left_out is clearly above its noise: published counts may be low. */
  may_be_low: boolean;
  /** This run's number in the organisation's budget period (the noise grows with it). */
  period_run: number;
  /** When the budget renews (ms since 1970), or null when it never does. */
  renews_at: number | null;
  /** The same in a sentence, for people. */
  message: string;
}

/** A notice the cloak published, as its log keeps it: re-showing it costs nobody anything. */
export interface BudgetDisclosure extends BudgetNotice {
  /** A real run's notice, or a cost preview's. */
  kind: 'run' | 'preview';
  /** When it was made (ms since 1970). */
  at: number;
  /** The budget period it belongs to (0 when the budget never renews). */
  period: number;
}

/**
 * An organisation's budget as it may be shown to its analysts: settings, counts of runs (which
 * the analysts started) and notices already published. Nothing in it is fresh information about
 * any user: the "distribution over time" is the history of noisy figures in `disclosures`.
 */
export interface BudgetState {
  /** Loss each (organisation, user) may spend on buckets (privacy.participationRho). */
  rho: number;
  /** Loss every user pays for all of a period's notices together. */
  disclosure_rho: number;
  /** Days after which every budget renews; 0: never. */
  period_days: number;
  /** When the current period ends (ms since 1970), or null. */
  renews_at: number | null;
  /** Notices made in this period so far (runs and previews): the next one is number this + 1. */
  runs_this_period: number;
  /** The noise sd the next run's or preview's notice will have. */
  next_noise_sd: number;
  /** The latest notices, newest first. */
  disclosures: BudgetDisclosure[];
}

/**
 * What a cost preview (a dry run that spends nothing) says: the notice the run would publish, or,
 * when the run would not be charged (a trusted analyst, or no budget), why not.
 */
export type BudgetPreview =
  ({ budgeted: true } & BudgetNotice) | { budgeted: false; message: string };

/** The only thing that ever leaves the cloak about user data. */
export interface AnonymizedResult {
  buckets: PublishedBucket[];
  exceptions: PublishedException[];
  /** Present when the run was charged to the participation budget. */
  budget?: BudgetNotice;
}

/**
 * A person's role on the site; it decides what they may do, including which keys they may create
 * (src/air/key-policy.ts). A new role needs a migration too: air.db's CHECK constraint lists them.
 */
export const ROLES = ['analyst', 'data_owner', 'admin'] as const;
export type Role = (typeof ROLES)[number];

/** The five key types of the specification; a client certificate carries exactly one. */
export const KEY_TYPES = ['web_api', 'task_runner', 'upload_any', 'upload_user', 'admin'] as const;
export type KeyType = (typeof KEY_TYPES)[number];

/**
 * How far the cloak trusts the person behind a run (docs/anonymization.md, "Access levels").
 * `untrusted` runs are charged to the participation budget; `trusted` runs are not (sticky
 * noise, the low-count filter and the "*" bucket still apply) and are audited with their code.
 * Anything that is not exactly `trusted` counts as `untrusted`.
 */
export const ACCESS_LEVELS = ['untrusted', 'trusted'] as const;
export type AccessLevel = (typeof ACCESS_LEVELS)[number];

/** The lower of two levels: a run is trusted only when everyone who shaped it is. */
export function lowerAccessLevel(a: AccessLevel, b: AccessLevel): AccessLevel {
  return a === 'trusted' && b === 'trusted' ? 'trusted' : 'untrusted';
}

/** How a caller follows and stops a task run (the air passes it to the cloak through its port). */
export interface RunControl {
  /** Aborting stops the run between batches; it then throws TASK_RUN_CANCELLED and publishes nothing. */
  signal?: AbortSignal;
  /**
   * Called before the first user and after every batch. `total` counts the users with rows in the
   * selected tables before filters, so a filtered run may end with `done` below it.
   */
  onProgress?: (progress: RunProgress) => void;
  /** Overrides the whole-run limit, for runs nobody waits for. */
  timeoutSeconds?: number;
  /**
   * The run's id in every log line about it, on every process it touches; the cloak makes a
   * random one when the caller has none (the air passes its own run id).
   */
  runId?: string;
}

export interface RunProgress {
  done: number;
  total: number;
}
