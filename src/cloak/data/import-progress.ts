// Where each file import got to: the last line stored, written in the same transaction as its rows.
import type Database from 'better-sqlite3';

/**
 * Why in the same transaction: a progress line on the terminal says what was stored a moment
 * ago, and a resume from it after kill -9 stored whole batches twice. Here a batch and the line it
 * ends at commit together, so `--resume` starts exactly after the last batch that is stored.
 */
export interface ImportPosition {
  /** The last line of the file whose row is stored (0: none yet). */
  line: number;
  /** Rows this import has stored in all, over its resumes. */
  rows: number;
  /** The whole file was read and stored. */
  finished: boolean;
}

/** Binds import id, organisation, table, line, rows, finished (0 or 1) and the time. */
export const RECORD_POSITION = `INSERT INTO data_import_progress
    (import_id, org_id, table_name, line, rows, finished, updated_at)
  VALUES (?, ?, ?, ?, ?, ?, ?)
  ON CONFLICT (org_id, import_id) DO UPDATE SET table_name = excluded.table_name, line = excluded.line,
    rows = excluded.rows, finished = excluded.finished, updated_at = excluded.updated_at`;

export class ImportProgress {
  constructor(private readonly db: Database.Database) {}

  get(orgId: string, importId: string): ImportPosition | undefined {
    const row = this.db
      .prepare(
        'SELECT line, rows, finished FROM data_import_progress WHERE import_id = ? AND org_id = ?',
      )
      .get(importId, orgId) as { line: number; rows: number; finished: number } | undefined;
    return row && { line: row.line, rows: row.rows, finished: row.finished === 1 };
  }

  /** Call inside the transaction that stores the rows up to `position.line`. */
  record(orgId: string, table: string, importId: string, position: ImportPosition): void {
    this.db
      .prepare(RECORD_POSITION)
      .run(
        importId,
        orgId,
        table,
        position.line,
        position.rows,
        position.finished ? 1 : 0,
        Date.now(),
      );
  }
}
