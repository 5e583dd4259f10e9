// Says whether the air database holds data yet: how a start tells a fresh installation from a restored one.
import { describeData, type SqlDb, type SqliteSqlDb } from '../../store/index.ts';

/** The runner's own table holds rows from the first open on; it says nothing about the data. */
const BOOKKEEPING = ['schema_migrations'];

/** E.g. "rows in organisations of air.db", or undefined when the air database is still empty. */
export async function describeAirData(db: SqlDb): Promise<string | undefined> {
  if (db.dialect === 'sqlite') return describeData((db as SqliteSqlDb).raw, 'air.db', BOOKKEEPING);
  const tables = await db.all<{ name: string }>(
    `SELECT table_name AS name FROM information_schema.tables
       WHERE table_schema = current_schema() AND table_type = 'BASE TABLE' ORDER BY table_name`,
  );
  for (const { name } of tables) {
    if (BOOKKEEPING.includes(name)) continue;
    // One row is enough to know, and stays fast on tables of millions.
    const quoted = `"${name.replaceAll('"', '""')}"`;
    if (await db.get(`SELECT 1 AS one FROM ${quoted} LIMIT 1`)) {
      return `rows in ${name} of the air's PostgreSQL database`;
    }
  }
  return undefined;
}
