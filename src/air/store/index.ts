// Public surface of the air store: one object that opens the air database and hands out its repositories.
import path from 'node:path';
import type { AccessLevel } from '../../shared/index.ts';
import { openSqlDb, ReadCache, runMigrations, type SqlDb } from '../../store/index.ts';
import { KnownAddresses } from '../auth/known-addresses.ts';
import { LoginThrottle } from '../auth/login-throttle.ts';
import { SessionStore } from '../auth/sessions.ts';
import { AuditLog } from './audit-log.ts';
import { KeyStore } from './keys.ts';
import { OrganisationStore } from './organisations.ts';
import { ResultStore } from './results.ts';
import { RunStore } from './runs.ts';
import { AIR_MIGRATIONS, airLegacyVersion } from './schema.ts';
import { TaskStore } from './tasks.ts';

export * from './audit-log.ts';
export { describeAirData } from './describe-data.ts';
export * from './keys.ts';
export * from './organisations.ts';
export * from './results.ts';
export * from './runs.ts';
export * from './tasks.ts';

export interface AirStore {
  /** The air database: air.db (SQLite) in the data directory, or PostgreSQL in server mode. */
  db: SqlDb;
  organisations: OrganisationStore;
  keys: KeyStore;
  tasks: TaskStore;
  results: ResultStore;
  /** Task runs in progress and recently finished, shared by every API server. */
  runs: RunStore;
  audit: AuditLog;
  sessions: SessionStore;
  /** Where each person logged in from recently: the login limits let these through. */
  knownAddresses: KnownAddresses;
  /** Failed logins, counted in the database so that every API server on it sees them. */
  loginThrottle: LoginThrottle;
  /** Values that hot read paths (authentication, results pages) may reuse until any write. */
  readCache: ReadCache;
  close(): Promise<void>;
}

/** The air keeps its own database; it never opens the cloak's. */
export interface AirStoreOptions {
  /** privacy.defaultAccessLevel: the access level of people added from now on. */
  defaultAccessLevel?: AccessLevel;
  /**
   * air.store: a `postgres://` URL for server mode; absent, air.db in the data directory (the
   * embedded default).
   */
  address?: string;
}

/** Where the air's database is: the configured address, or air.db in the data directory. */
export function airStoreAddress(dataDir: string, address?: string): string {
  return address ?? path.join(dataDir, 'air.db');
}

export async function openAirStore(
  dataDir: string,
  options: AirStoreOptions = {},
): Promise<AirStore> {
  const db = openSqlDb(airStoreAddress(dataDir, options.address));
  try {
    return await airStoreOn(db, options);
  } catch (error) {
    await db.close();
    throw error;
  }
}

/** The air's repositories over an open database, migrated first (the contract suites use it). */
export async function airStoreOn(db: SqlDb, options: AirStoreOptions = {}): Promise<AirStore> {
  await runMigrations(db, 'air', AIR_MIGRATIONS, { legacyVersion: airLegacyVersion });
  const readCache = new ReadCache(db);
  return {
    db,
    readCache,
    organisations: new OrganisationStore(db, options.defaultAccessLevel),
    keys: new KeyStore(db, readCache),
    tasks: new TaskStore(db),
    results: new ResultStore(db),
    runs: new RunStore(db),
    audit: new AuditLog(db),
    sessions: new SessionStore(db),
    knownAddresses: new KnownAddresses(db),
    loginThrottle: new LoginThrottle(db),
    close: () => db.close(),
  };
}
