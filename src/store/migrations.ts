// One migration runner for every table of every component, on SQLite and PostgreSQL (umzug).
import { Umzug, type UmzugStorage } from 'umzug';
import type { Dialect, SqlDb, SqlExecutor } from './sql-db.ts';

/**
 * One schema step of a component. `up` is SQL for both dialects, SQL per dialect where they differ
 * (types, `COLLATE NOCASE`, `WITHOUT ROWID`), or a function for steps that need to read first.
 */
export interface MigrationStep {
  version: number;
  name: string;
  up: string | Record<Dialect, string> | ((tx: SqlExecutor) => Promise<void>);
}

export interface MigrationOptions {
  /**
   * For databases made before this runner: the version the component's old mechanism recorded
   * (air.db's `user_version`, the data store's own table). Steps up to it count as applied the
   * first time the runner meets the component, so nothing runs twice.
   */
  legacyVersion?: (tx: SqlExecutor) => Promise<number>;
}

const TABLE = `CREATE TABLE IF NOT EXISTS schema_migrations (
  component TEXT NOT NULL,
  version INTEGER NOT NULL,
  name TEXT NOT NULL,
  applied_at TEXT NOT NULL,
  PRIMARY KEY (component, version)
)`;

/** Every process that starts against a PostgreSQL database takes this lock before migrating. */
const POSTGRES_LOCK = 0x0c10a4;

/**
 * Applies the component's pending steps in order. All of them run in one transaction, each logged
 * in `schema_migrations` inside it: a crash leaves the schema as it was, and two servers starting
 * at once on PostgreSQL take turns (an advisory lock) instead of both migrating.
 */
export async function runMigrations(
  db: SqlDb,
  component: string,
  steps: readonly MigrationStep[],
  options: MigrationOptions = {},
): Promise<string[]> {
  checkSteps(component, steps);
  return db.transaction(async (tx) => {
    if (tx.dialect === 'postgres') await tx.get('SELECT pg_advisory_xact_lock(?)', [POSTGRES_LOCK]);
    await tx.exec(TABLE);
    await adoptLegacy(tx, component, steps, options);
    const umzug = new Umzug<SqlExecutor>({
      migrations: steps.map((step) => ({
        name: stepName(step),
        up: async ({ context }) => applyStep(context, step),
      })),
      context: tx,
      storage: storage(component, steps),
      logger: undefined,
    });
    const applied = await umzug.up();
    return applied.map((m) => m.name);
  });
}

/** The versions of a component the database has applied, in order. */
export async function appliedVersions(db: SqlExecutor, component: string): Promise<number[]> {
  await db.exec(TABLE);
  const rows = await db.all<{ version: number }>(
    'SELECT version FROM schema_migrations WHERE component = ? ORDER BY version',
    [component],
  );
  return rows.map((r) => Number(r.version));
}

function checkSteps(component: string, steps: readonly MigrationStep[]): void {
  for (let i = 1; i < steps.length; i++) {
    if (steps[i]!.version <= steps[i - 1]!.version) {
      throw new Error(`${component} migrations must have increasing versions (${steps[i]!.name})`);
    }
  }
}

function stepName(step: MigrationStep): string {
  return `${String(step.version).padStart(4, '0')}-${step.name}`;
}

async function applyStep(tx: SqlExecutor, step: MigrationStep): Promise<void> {
  if (typeof step.up === 'function') await step.up(tx);
  else await tx.exec(typeof step.up === 'string' ? step.up : step.up[tx.dialect]);
}

async function adoptLegacy(
  tx: SqlExecutor,
  component: string,
  steps: readonly MigrationStep[],
  options: MigrationOptions,
): Promise<void> {
  if (!options.legacyVersion) return;
  const known = await tx.get('SELECT 1 FROM schema_migrations WHERE component = ? LIMIT 1', [
    component,
  ]);
  if (known) return;
  const legacy = await options.legacyVersion(tx);
  for (const step of steps.filter((s) => s.version <= legacy)) await log(tx, component, step);
}

async function log(tx: SqlExecutor, component: string, step: MigrationStep): Promise<void> {
  await tx.run(
    'INSERT INTO schema_migrations (component, version, name, applied_at) VALUES (?, ?, ?, ?)',
    [component, step.version, step.name, new Date().toISOString()],
  );
}

/** umzug's bookkeeping in `schema_migrations`, written by the same transaction as the step. */
function storage(component: string, steps: readonly MigrationStep[]): UmzugStorage<SqlExecutor> {
  const byName = new Map(steps.map((s) => [stepName(s), s]));
  return {
    async executed({ context }) {
      const rows = await context.all<{ version: number; name: string }>(
        'SELECT version, name FROM schema_migrations WHERE component = ? ORDER BY version',
        [component],
      );
      return rows.map((r) => stepName({ version: Number(r.version), name: r.name, up: '' }));
    },
    async logMigration({ name, context }) {
      await log(context, component, byName.get(name)!);
    },
    async unlogMigration({ name, context }) {
      await context.run('DELETE FROM schema_migrations WHERE component = ? AND version = ?', [
        component,
        byName.get(name)!.version,
      ]);
    },
  };
}
