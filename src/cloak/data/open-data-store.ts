// Opens the cloak's data store an address names: a PostgreSQL URL (server mode) or a SQLite file.
import { openPostgresDb, openSqliteDb, type SqliteSqlDb } from '../../store/index.ts';
import type { CloakDataStore } from './data-store.ts';
import { PostgresDataStore } from './postgres-data-store.ts';
import { SqliteDataStore } from './sqlite-data-store.ts';

/** Migrated and ready; `close()` closes what it opened. */
export async function openDataStore(address: string | SqliteSqlDb): Promise<CloakDataStore> {
  if (typeof address !== 'string') return SqliteDataStore.open(address);
  if (/^postgres(ql)?:\/\//.test(address)) {
    const db = openPostgresDb(address);
    try {
      return await PostgresDataStore.open(db, address);
    } catch (error) {
      await db.close();
      throw error;
    }
  }
  const db = openSqliteDb(address);
  try {
    return await SqliteDataStore.open(db);
  } catch (error) {
    await db.close();
    throw error;
  }
}
