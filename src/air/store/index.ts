// Public surface of the air store: one object that opens air.db and hands out its repositories.
import path from 'node:path';
import type { AccessLevel } from '../../shared/index.ts';
import { migrate, openDatabase, ReadCache, type Db } from '../../store/index.ts';
import { KnownAddresses } from '../auth/known-addresses.ts';
import { SessionStore } from '../auth/sessions.ts';
import { AuditLog } from './audit-log.ts';
import { KeyStore } from './keys.ts';
import { OrganisationStore } from './organisations.ts';
import { ResultStore } from './results.ts';
import { AIR_MIGRATIONS } from './schema.ts';
import { TaskStore } from './tasks.ts';

export * from './audit-log.ts';
export * from './keys.ts';
export * from './organisations.ts';
export * from './results.ts';
export * from './tasks.ts';

export interface AirStore {
  db: Db;
  organisations: OrganisationStore;
  keys: KeyStore;
  tasks: TaskStore;
  results: ResultStore;
  audit: AuditLog;
  sessions: SessionStore;
  /** Where each person logged in from recently: the login limits let these through. */
  knownAddresses: KnownAddresses;
  /** Values that hot read paths (authentication, results pages) may reuse until any write. */
  readCache: ReadCache;
  close(): void;
}

/** The air keeps its own database file; it never opens the cloak's. */
export interface AirStoreOptions {
  /** privacy.defaultAccessLevel: the access level of people added from now on. */
  defaultAccessLevel?: AccessLevel;
}

export function openAirStore(dataDir: string, options: AirStoreOptions = {}): AirStore {
  const db = openDatabase(path.join(dataDir, 'air.db'));
  migrate(db, AIR_MIGRATIONS);
  const readCache = new ReadCache(db);
  return {
    db,
    readCache,
    organisations: new OrganisationStore(db, options.defaultAccessLevel),
    keys: new KeyStore(db, readCache),
    tasks: new TaskStore(db),
    results: new ResultStore(db),
    audit: new AuditLog(db),
    sessions: new SessionStore(db),
    knownAddresses: new KnownAddresses(db),
    close: () => db.close(),
  };
}
