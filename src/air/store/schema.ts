// The air database schema: organisations, analysts, keys, tasks and published results. No raw rows.
import type { MigrationStep, SqlExecutor } from '../../store/index.ts';
import { POSTGRES_BASELINE } from './schema-postgres.ts';

/**
 * The SQLite steps as air.db has applied them since its first release (recorded in `user_version`
 * before the shared runner). PostgreSQL never saw these: a fresh PostgreSQL database starts from one
 * squashed step (schema-postgres.ts) and skips the rest, and steps after SQLITE_HISTORY apply to both.
 */
const SQLITE_HISTORY: ReadonlyArray<{ version: number; sql: string }> = [
  {
    version: 1,
    sql: `
      CREATE TABLE organisations (
        id TEXT PRIMARY KEY,
        name TEXT NOT NULL UNIQUE COLLATE NOCASE,
        created_at INTEGER NOT NULL
      );
      CREATE TABLE analysts (
        id TEXT PRIMARY KEY,
        org_id TEXT NOT NULL REFERENCES organisations(id) ON DELETE CASCADE,
        email TEXT NOT NULL UNIQUE COLLATE NOCASE,
        name TEXT NOT NULL,
        created_at INTEGER NOT NULL
      );
      CREATE TABLE api_keys (
        id TEXT PRIMARY KEY,
        org_id TEXT NOT NULL REFERENCES organisations(id) ON DELETE CASCADE,
        type TEXT NOT NULL,
        user_id TEXT,
        description TEXT NOT NULL,
        serial TEXT NOT NULL UNIQUE,
        created_at INTEGER NOT NULL,
        expires_at INTEGER NOT NULL,
        revoked_at INTEGER
      );
      CREATE INDEX api_keys_by_org ON api_keys(org_id);
      CREATE TABLE tasks (
        id INTEGER PRIMARY KEY,
        token TEXT NOT NULL UNIQUE,
        org_id TEXT NOT NULL REFERENCES organisations(id) ON DELETE CASCADE,
        name TEXT NOT NULL,
        type TEXT NOT NULL CHECK (type IN ('batch', 'periodic', 'streaming')),
        code TEXT NOT NULL,
        prefetch TEXT NOT NULL,
        code_version INTEGER NOT NULL DEFAULT 1,
        created_at INTEGER NOT NULL,
        updated_at INTEGER NOT NULL,
        UNIQUE (org_id, name)
      );
      CREATE TABLE results (
        id INTEGER PRIMARY KEY,
        task_id INTEGER NOT NULL REFERENCES tasks(id) ON DELETE CASCADE,
        published_at INTEGER NOT NULL,
        code_version INTEGER NOT NULL,
        buckets TEXT NOT NULL,
        exceptions TEXT NOT NULL
      );
      CREATE INDEX results_newest_first ON results(task_id, published_at DESC, id DESC);
    `,
  },
  {
    // The exact JSON item the results API serves, rendered once at publication: serving a page
    // then splices stored text instead of parsing and re-serializing every result.
    version: 2,
    sql: 'ALTER TABLE results ADD COLUMN api_item TEXT;',
  },
  {
    // Who did what to keys and logins, and which authentications failed; never a secret.
    version: 3,
    sql: `
      CREATE TABLE audit_log (
        id INTEGER PRIMARY KEY,
        at INTEGER NOT NULL,
        org_id TEXT,
        event TEXT NOT NULL,
        actor TEXT NOT NULL,
        detail TEXT NOT NULL
      );
      CREATE INDEX audit_log_by_org ON audit_log(org_id, id DESC);
    `,
  },
  {
    // Web logins: a password hash and a role per person, and sessions stored by token hash.
    version: 4,
    sql: `
      ALTER TABLE analysts ADD COLUMN role TEXT NOT NULL DEFAULT 'analyst' CHECK (role IN ('admin', 'analyst'));
      ALTER TABLE analysts ADD COLUMN password_hash TEXT;
      CREATE TABLE sessions (
        token_hash TEXT PRIMARY KEY,
        analyst_id TEXT NOT NULL REFERENCES analysts(id) ON DELETE CASCADE,
        csrf_token TEXT NOT NULL,
        created_at INTEGER NOT NULL,
        last_seen_at INTEGER NOT NULL
      );
      CREATE INDEX sessions_by_analyst ON sessions(analyst_id);
    `,
  },
  {
    // Periodic tasks: the schedule, and when the scheduler last started a run (for catch-up).
    version: 5,
    sql: `
      ALTER TABLE tasks ADD COLUMN schedule TEXT;
      ALTER TABLE tasks ADD COLUMN last_scheduled_at INTEGER;
    `,
  },
  {
    // TypeScript tasks: the language of the source, and the JavaScript the cloak made of it.
    version: 6,
    sql: `
      ALTER TABLE tasks ADD COLUMN language TEXT NOT NULL DEFAULT 'javascript';
      ALTER TABLE tasks ADD COLUMN compiled_code TEXT;
    `,
  },
  {
    // The data owner role. SQLite cannot change a CHECK constraint in place, so the table is
    // rebuilt with every row as it was (existing non-admins stay analysts). Dropping the old
    // table cascades to sessions, so they are set aside and put back: nobody is logged out.
    version: 7,
    sql: `
      CREATE TEMP TABLE sessions_v6 AS SELECT * FROM sessions;
      CREATE TABLE analysts_v7 (
        id TEXT PRIMARY KEY,
        org_id TEXT NOT NULL REFERENCES organisations(id) ON DELETE CASCADE,
        email TEXT NOT NULL UNIQUE COLLATE NOCASE,
        name TEXT NOT NULL,
        created_at INTEGER NOT NULL,
        role TEXT NOT NULL DEFAULT 'analyst' CHECK (role IN ('admin', 'analyst', 'data_owner')),
        password_hash TEXT
      );
      INSERT INTO analysts_v7 (id, org_id, email, name, created_at, role, password_hash)
        SELECT id, org_id, email, name, created_at, role, password_hash FROM analysts;
      DROP TABLE analysts;
      ALTER TABLE analysts_v7 RENAME TO analysts;
      INSERT INTO sessions SELECT * FROM temp.sessions_v6;
      DROP TABLE temp.sessions_v6;
    `,
  },
  {
    // Access levels (docs/anonymization.md): everyone existing starts untrusted, i.e. budgeted.
    // Keys and tasks remember their person so that a run's level is looked up when it starts,
    // and a demotion takes effect at once. No foreign keys: a rebuilt analysts table (as in
    // version 7) must not cascade into them, and an owner that is gone simply means untrusted.
    // Keys minted before this get their owner from the audit log's key.created entry.
    version: 8,
    sql: `
      ALTER TABLE analysts ADD COLUMN access_level TEXT NOT NULL DEFAULT 'untrusted'
        CHECK (access_level IN ('untrusted', 'trusted'));
      ALTER TABLE api_keys ADD COLUMN owner_id TEXT;
      ALTER TABLE tasks ADD COLUMN saved_by TEXT;
      UPDATE api_keys SET owner_id = (
        SELECT substr(a.actor, instr(a.actor, 'analyst:') + 8) FROM audit_log a
          WHERE a.event = 'key.created' AND a.actor LIKE '%analyst:%'
            AND json_extract(a.detail, '$.key') = api_keys.id
          ORDER BY a.id LIMIT 1
      );
    `,
  },
  {
    // What a budgeted run said about the participation budget (BudgetNotice as JSON); null for
    // results of trusted runs, of installations without the budget, and from before it.
    version: 9,
    sql: 'ALTER TABLE results ADD COLUMN budget TEXT;',
  },
  {
    // Addresses each person logged in from (KnownAddresses): the login limits let these through.
    // No foreign key, as in version 8: a rebuilt analysts table must not cascade into it.
    version: 10,
    sql: `
      CREATE TABLE login_addresses (
        analyst_id TEXT NOT NULL,
        address TEXT NOT NULL,
        last_login_at INTEGER NOT NULL,
        PRIMARY KEY (analyst_id, address)
      );
    `,
  },
];

/** air.db's old mechanism recorded its version in `user_version`; PostgreSQL has no legacy. */
export async function airLegacyVersion(tx: SqlExecutor): Promise<number> {
  if (tx.dialect !== 'sqlite') return 0;
  const row = await tx.get<{ user_version: number }>('PRAGMA user_version');
  return row?.user_version ?? 0;
}

/** The version of today's schema that POSTGRES_BASELINE creates in one step. */
const BASELINE_VERSION = SQLITE_HISTORY[SQLITE_HISTORY.length - 1]!.version;

const STEP_NAMES: Record<number, string> = {
  1: 'organisations-analysts-keys-tasks-results',
  2: 'results-api-item',
  3: 'audit-log',
  4: 'logins-and-sessions',
  5: 'periodic-schedule',
  6: 'typescript-tasks',
  7: 'data-owner-role',
  8: 'access-levels',
  9: 'results-budget',
  10: 'login-addresses',
};

/**
 * Every air step for the one migration runner (`runMigrations(db, 'air', AIR_MIGRATIONS, ...)`).
 * On PostgreSQL step 1 is the squashed baseline and steps 2 to 10 do nothing.
 */
export const AIR_MIGRATIONS: readonly MigrationStep[] = [
  ...SQLITE_HISTORY.map((step): MigrationStep => ({
    version: step.version,
    name: STEP_NAMES[step.version]!,
    up: { sqlite: step.sql, postgres: step.version === 1 ? POSTGRES_BASELINE : 'SELECT 1' },
  })),
  {
    // Failed logins per (account, address) and per address (LoginThrottle): in the database so
    // that two API servers on one database count together, and a restart does not reset them.
    version: BASELINE_VERSION + 1,
    name: 'login-failures',
    up: {
      sqlite: `
        CREATE TABLE login_failures (key TEXT NOT NULL, at INTEGER NOT NULL);
        CREATE INDEX login_failures_by_key ON login_failures(key, at);
        CREATE INDEX login_failures_by_age ON login_failures(at);
      `,
      postgres: `
        CREATE TABLE login_failures (key TEXT NOT NULL, at BIGINT NOT NULL);
        CREATE INDEX login_failures_by_key ON login_failures(key, at);
        CREATE INDEX login_failures_by_age ON login_failures(at);
      `,
    },
  },
  {
    // Runs in progress and recently finished (RunStore): in the database so that every API
    // server answers for a run another one executes, and a cancel reaches it.
    version: BASELINE_VERSION + 2,
    name: 'task-runs',
    up: {
      sqlite: `
        CREATE TABLE task_runs (
          id TEXT PRIMARY KEY, kind TEXT NOT NULL, org_id TEXT NOT NULL, task_id INTEGER NOT NULL,
          state TEXT NOT NULL, done INTEGER NOT NULL, total INTEGER NOT NULL,
          started_at INTEGER NOT NULL, finished_at INTEGER, result_id INTEGER, error TEXT,
          heartbeat_at INTEGER NOT NULL, cancel_requested INTEGER NOT NULL
        );
        CREATE INDEX task_runs_by_task ON task_runs(org_id, task_id, started_at);
      `,
      postgres: `
        CREATE TABLE task_runs (
          id TEXT PRIMARY KEY, kind TEXT NOT NULL, org_id TEXT NOT NULL, task_id BIGINT NOT NULL,
          state TEXT NOT NULL, done BIGINT NOT NULL, total BIGINT NOT NULL,
          started_at BIGINT NOT NULL, finished_at BIGINT, result_id BIGINT, error TEXT,
          heartbeat_at BIGINT NOT NULL, cancel_requested INTEGER NOT NULL
        );
        CREATE INDEX task_runs_by_task ON task_runs(org_id, task_id, started_at);
      `,
    },
  },
];

/** The SQLite steps in the old `{ version, sql }` form: tests build databases of older releases. */
export const SQLITE_LEGACY_STEPS = SQLITE_HISTORY;
