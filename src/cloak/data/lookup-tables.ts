// Lookup tables: per-organisation string-to-string maps that task code reads with lookup(table, key).
import type Database from 'better-sqlite3';
import { AppError } from '../../errors/index.ts';
import { checkName, describe, display, hasLoneSurrogate, listNames } from './names.ts';

interface LookupRow {
  id: number;
  name: string;
}

export class LookupTables {
  private readonly byName: Database.Statement<[string, string], LookupRow>;
  private readonly value: Database.Statement<[string, string, string], { value: string }>;

  constructor(private readonly db: Database.Database) {
    this.byName = db.prepare(
      'SELECT id, name FROM data_lookup_tables WHERE org_id = ? AND name = ? COLLATE NOCASE',
    );
    this.value = db.prepare(
      'SELECT e.value AS value FROM data_lookup_tables t JOIN data_lookup_entries e ON e.lookup_id = t.id ' +
        'WHERE t.org_id = ? AND t.name = ? AND e.key = ?',
    );
  }

  /** Replaces the whole table (or creates it) in one transaction; readers see the old or the new table. */
  set(orgId: string, rawName: unknown, pairs: unknown, now: number): void {
    const name = checkName(rawName, 'lookup table');
    const entries = parsePairs(pairs);
    this.db
      .transaction(() => {
        const existing = this.byName.get(orgId, name);
        if (existing && existing.name !== name) {
          // Names are unique ignoring case, so that "Products" and "products" cannot both exist.
          throw new AppError('NAME_TAKEN', { what: 'lookup table', name: existing.name });
        }
        let id: number;
        if (existing) {
          id = existing.id;
          this.db.prepare('DELETE FROM data_lookup_entries WHERE lookup_id = ?').run(id);
          this.db.prepare('UPDATE data_lookup_tables SET updated_at = ? WHERE id = ?').run(now, id);
        } else {
          const inserted = this.db
            .prepare('INSERT INTO data_lookup_tables (org_id, name, updated_at) VALUES (?, ?, ?)')
            .run(orgId, name, now);
          id = Number(inserted.lastInsertRowid);
        }
        const insert = this.db.prepare(
          'INSERT INTO data_lookup_entries (lookup_id, key, value) VALUES (?, ?, ?)',
        );
        for (const [key, value] of entries) insert.run(id, key, value);
      })
      .immediate();
  }

  remove(orgId: string, name: string): void {
    const existing = this.byName.get(orgId, name);
    if (!existing || existing.name !== name) {
      throw new AppError('UNKNOWN_LOOKUP_TABLE', {
        table: name,
        known: listNames(this.names(orgId)),
      });
    }
    // The entries go with it (ON DELETE CASCADE).
    this.db.prepare('DELETE FROM data_lookup_tables WHERE id = ?').run(existing.id);
  }

  /** Undefined for an unknown table as for an unknown key: task code cannot tell them apart. */
  lookup(orgId: string, table: string, key: string): string | undefined {
    const text = stringify(key);
    if (text === undefined) return undefined;
    return this.value.get(orgId, table, text)?.value;
  }

  /** The internal id of the organisation's lookup table `name` (exact spelling), for sql tasks. */
  idOf(orgId: string, name: string): number | undefined {
    const row = this.byName.get(orgId, name);
    return row && row.name === name ? row.id : undefined;
  }

  names(orgId: string): string[] {
    return (
      this.db
        .prepare('SELECT name FROM data_lookup_tables WHERE org_id = ? ORDER BY name')
        .all(orgId) as Array<{
        name: string;
      }>
    ).map((r) => r.name);
  }
}

/** Keys and values are stored as strings, as task code always receives a string from lookup(). */
export function stringify(value: unknown): string | undefined {
  // NUL as in upload values (row-validation.ts): PostgreSQL's text cannot hold it.
  if (typeof value === 'string') {
    return hasLoneSurrogate(value) || value.includes('\u0000') ? undefined : value;
  }
  if (typeof value === 'number') return Number.isFinite(value) ? String(value) : undefined;
  if (typeof value === 'boolean') return String(value);
  return undefined;
}

export function parsePairs(pairs: unknown): Map<string, string> {
  if (!Array.isArray(pairs)) {
    throw new AppError('INVALID_BODY', {
      detail: `a lookup table is a list of [key, value] pairs, e.g. [["DE", "Germany"], ["FR", "France"]]; got ${describe(pairs)}.`,
    });
  }
  const entries = new Map<string, string>();
  const firstIndex = new Map<string, number>();
  pairs.forEach((pair, index) => {
    if (!Array.isArray(pair) || pair.length !== 2) {
      throw new AppError('INVALID_BODY', {
        detail: `lookup pair [${index}] must be a list of two items [key, value], got ${describe(pair)}.`,
      });
    }
    const [key, value] = pair.map((item, position) => {
      const text = stringify(item);
      if (text === undefined) {
        throw new AppError('INVALID_BODY', {
          detail:
            `lookup pair [${index}]: the ${position === 0 ? 'key' : 'value'} must be a string, a finite number ` +
            `or a boolean (a string without NUL characters or unpaired surrogates), got ${describe(item)}.`,
        });
      }
      return text;
    }) as [string, string];
    const earlier = firstIndex.get(key);
    if (earlier !== undefined) {
      throw new AppError('INVALID_BODY', {
        detail: `lookup pair [${index}] repeats the key "${display(key, 60)}" of pair [${earlier}] (keys compare as strings); give each key once.`,
      });
    }
    firstIndex.set(key, index);
    entries.set(key, value);
  });
  return entries;
}
