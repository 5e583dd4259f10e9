// Lookup tables on PostgreSQL: per-organisation string-to-string maps that task code reads with lookup().
import { AppError } from '../../errors/index.ts';
import type { SqlDb, SqlExecutor } from '../../store/index.ts';
import type { LookupReader } from './data-store.ts';
import { parsePairs, stringify } from './lookup-tables.ts';
import { checkName, listNames } from './names.ts';
import { isUniqueViolation } from './postgres-catalogue.ts';

/** Entries per INSERT: one statement binds two arrays, whatever the table's size. */
const ENTRIES_PER_STATEMENT = 10_000;

export class PostgresLookups {
  constructor(private readonly db: SqlDb) {}

  /** Replaces the whole table (or creates it) in one transaction; readers see the old or the new table. */
  async set(orgId: string, rawName: unknown, pairs: unknown, now: number): Promise<void> {
    const name = checkName(rawName, 'lookup table');
    const entries = [...parsePairs(pairs)];
    try {
      await this.db.transaction(async (tx) => {
        const existing = await byName(tx, orgId, name, 'FOR UPDATE');
        if (existing && existing.name !== name) {
          throw new AppError('NAME_TAKEN', { what: 'lookup table', name: existing.name });
        }
        let id: number;
        if (existing) {
          id = existing.id;
          await tx.run('DELETE FROM data_lookup_entries WHERE lookup_id = ?', [id]);
          await tx.run('UPDATE data_lookup_tables SET updated_at = ? WHERE id = ?', [now, id]);
        } else {
          const row = await tx.get<{ id: number }>(
            'INSERT INTO data_lookup_tables (org_id, name, updated_at) VALUES (?, ?, ?) RETURNING id',
            [orgId, name, now],
          );
          id = Number(row!.id);
        }
        for (let i = 0; i < entries.length; i += ENTRIES_PER_STATEMENT) {
          const part = entries.slice(i, i + ENTRIES_PER_STATEMENT);
          await tx.run(
            'INSERT INTO data_lookup_entries (lookup_id, key, value) SELECT ?, * FROM unnest(CAST(? AS text[]), CAST(? AS text[]))',
            [id, toArray(part.map((e) => e[0])), toArray(part.map((e) => e[1]))],
          );
        }
      });
    } catch (error) {
      // Two servers creating the same name at once: the unique index decides, with the same answer.
      if (!isUniqueViolation(error)) throw error;
      const winner = await byName(this.db, orgId, name);
      if (winner && winner.name === name) return this.set(orgId, name, pairs, now);
      throw new AppError('NAME_TAKEN', { what: 'lookup table', name: winner?.name ?? name });
    }
  }

  async remove(orgId: string, name: string): Promise<void> {
    const existing = await byName(this.db, orgId, name);
    if (!existing || existing.name !== name) {
      throw new AppError('UNKNOWN_LOOKUP_TABLE', {
        table: name,
        known: listNames(await this.names(orgId)),
      });
    }
    await this.db.run('DELETE FROM data_lookup_tables WHERE id = ?', [existing.id]);
  }

  /** Undefined for an unknown table as for an unknown key: task code cannot tell them apart. */
  async lookup(orgId: string, table: string, key: unknown): Promise<string | undefined> {
    const text = stringify(key);
    if (text === undefined) return undefined;
    const row = await this.db.get<{ value: string }>(
      'SELECT e.value AS value FROM data_lookup_tables t JOIN data_lookup_entries e ON e.lookup_id = t.id ' +
        'WHERE t.org_id = ? AND t.name = ? AND e.key = ?',
      [orgId, table, text],
    );
    return row?.value;
  }

  /**
   * All of the organisation's lookup tables in memory, read in one statement: the sandbox asks
   * synchronously, and a run then sees one version of every table.
   */
  async reader(orgId: string): Promise<LookupReader> {
    const rows = await this.db.all<{ name: string; key: string; value: string }>(
      'SELECT t.name AS name, e.key AS key, e.value AS value FROM data_lookup_tables t ' +
        'JOIN data_lookup_entries e ON e.lookup_id = t.id WHERE t.org_id = ?',
      [orgId],
    );
    const tables = new Map<string, Map<string, string>>();
    for (const { name, key, value } of rows) {
      let table = tables.get(name);
      if (!table) tables.set(name, (table = new Map()));
      table.set(key, value);
    }
    // Per lookup of every user's run: a string is used as it is, since one no stored key can
    // equal (NUL, an unpaired surrogate) is simply not in the map.
    return (table, key) => {
      const text = typeof key === 'string' ? key : stringify(key);
      return text === undefined ? undefined : tables.get(table)?.get(text);
    };
  }

  async idOf(orgId: string, name: string, db: SqlExecutor = this.db): Promise<number | undefined> {
    const row = await byName(db, orgId, name);
    return row && row.name === name ? row.id : undefined;
  }

  async names(orgId: string, db: SqlExecutor = this.db): Promise<string[]> {
    const rows = await db.all<{ name: string }>(
      'SELECT name FROM data_lookup_tables WHERE org_id = ? ORDER BY name COLLATE "C"',
      [orgId],
    );
    return rows.map((r) => r.name);
  }
}

async function byName(
  db: SqlExecutor,
  orgId: string,
  name: string,
  lock?: 'FOR UPDATE',
): Promise<{ id: number; name: string } | undefined> {
  const row = await db.get<{ id: number; name: string }>(
    `SELECT id, name FROM data_lookup_tables WHERE org_id = ? AND lower(name) = lower(?)${lock ? ` ${lock}` : ''}`,
    [orgId, name],
  );
  return row && { id: Number(row.id), name: row.name };
}

/** pg binds a JavaScript array as a PostgreSQL array; SqlValue does not name arrays. */
export function toArray(values: ReadonlyArray<string | number | null>): string {
  return values as unknown as string;
}
