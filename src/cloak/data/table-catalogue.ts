// The catalogue of user tables per organisation, and the physical tables behind it.
import type Database from 'better-sqlite3';
import { AppError } from '../../errors/index.ts';
import type { ColumnDefinition } from '../../shared/index.ts';
import { storageType } from './column-types.ts';
import { listNames, quoteIdentifier } from './names.ts';

export interface TableInfo {
  name: string;
  columns: ColumnDefinition[];
  /** 1 on creation, incremented by every alteration. */
  version: number;
}

/** A catalogue entry with the internal id that names its physical table. */
export interface StoredTable extends TableInfo {
  id: number;
}

interface CatalogueRow {
  id: number;
  name: string;
  columns: string;
  version: number;
}

/**
 * Physical names come from the internal id only, never from user input, so no table name an
 * organisation chooses can reach SQL or collide with another organisation's table.
 */
export function physicalTableName(id: number): string {
  if (!Number.isSafeInteger(id) || id < 1) throw new Error(`invalid internal table id ${id}`);
  return `data_rows_${id}`;
}

export function publicInfo(table: StoredTable): TableInfo {
  return {
    name: table.name,
    columns: table.columns.map((c) => ({ ...c })),
    version: table.version,
  };
}

function fromRow(row: CatalogueRow): StoredTable {
  return {
    id: row.id,
    name: row.name,
    columns: JSON.parse(row.columns) as ColumnDefinition[],
    version: row.version,
  };
}

/** Reads (and, on the main connection, writes) the catalogue; every lookup is scoped by organisation. */
export class TableCatalogue {
  private readonly byName: Database.Statement<[string, string], CatalogueRow>;
  private readonly byOrg: Database.Statement<[string], CatalogueRow>;

  constructor(private readonly db: Database.Database) {
    // NOCASE finds the entry the unique index guards; the exact spelling is then checked in code.
    this.byName = db.prepare(
      'SELECT id, name, columns, version FROM data_tables WHERE org_id = ? AND name = ? COLLATE NOCASE',
    );
    this.byOrg = db.prepare(
      'SELECT id, name, columns, version FROM data_tables WHERE org_id = ? ORDER BY name',
    );
  }

  /** The table with exactly this name (names are case-sensitive, but unique ignoring case). */
  find(orgId: string, name: string): StoredTable | undefined {
    const row = this.byName.get(orgId, name);
    return row && row.name === name ? fromRow(row) : undefined;
  }

  findIgnoringCase(orgId: string, name: string): StoredTable | undefined {
    const row = this.byName.get(orgId, name);
    return row ? fromRow(row) : undefined;
  }

  list(orgId: string): StoredTable[] {
    return this.byOrg.all(orgId).map(fromRow);
  }

  /** Like find, but an unknown table is a 4xx naming the tables that do exist. */
  require(orgId: string, name: string): StoredTable {
    const table = this.find(orgId, name);
    if (!table) throw this.unknownTable(orgId, name);
    return table;
  }

  unknownTable(orgId: string, name: string): AppError {
    return new AppError('UNKNOWN_TABLE', {
      table: name,
      known: listNames(this.list(orgId).map((t) => t.name)),
    });
  }

  /** Call inside a transaction: the catalogue entry and the physical table appear together. */
  create(orgId: string, name: string, columns: ColumnDefinition[], now: number): StoredTable {
    const existing = this.findIgnoringCase(orgId, name);
    if (existing) throw new AppError('TABLE_EXISTS', { table: existing.name });
    const { lastInsertRowid } = this.db
      .prepare(
        'INSERT INTO data_tables (org_id, name, columns, version, created_at, updated_at) VALUES (?, ?, ?, 1, ?, ?)',
      )
      .run(orgId, name, JSON.stringify(columns), now, now);
    const id = Number(lastInsertRowid);
    const physical = physicalTableName(id);
    const declared = columns
      .map((c) => `, ${quoteIdentifier(c.name)} ${storageType(c.type)}`)
      .join('');
    // Clustered by (user, arrival sequence): a user's rows are contiguous on disk, which makes the
    // per-user stream a sequential scan and deleting a user a range delete.
    this.db.exec(
      `CREATE TABLE ${quoteIdentifier(physical)} (ac_user_id TEXT NOT NULL, ac_seq INTEGER NOT NULL, ` +
        `ac_arrival INTEGER NOT NULL${declared}, PRIMARY KEY (ac_user_id, ac_seq)) STRICT, WITHOUT ROWID`,
    );
    return { id, name, columns, version: 1 };
  }

  /** Call inside a transaction; drops run before adds so a column can be re-created with a new type. */
  alter(table: StoredTable, drop: string[], add: ColumnDefinition[], now: number): StoredTable {
    const physical = quoteIdentifier(physicalTableName(table.id));
    for (const name of drop)
      this.db.exec(`ALTER TABLE ${physical} DROP COLUMN ${quoteIdentifier(name)}`);
    for (const c of add) {
      this.db.exec(
        `ALTER TABLE ${physical} ADD COLUMN ${quoteIdentifier(c.name)} ${storageType(c.type)}`,
      );
    }
    const columns = [...table.columns.filter((c) => !drop.includes(c.name)), ...add];
    const version = table.version + 1;
    this.db
      .prepare('UPDATE data_tables SET columns = ?, version = ?, updated_at = ? WHERE id = ?')
      .run(JSON.stringify(columns), version, now, table.id);
    return { ...table, columns, version };
  }

  /** Call inside a transaction. */
  drop(table: StoredTable): void {
    this.db.exec(`DROP TABLE ${quoteIdentifier(physicalTableName(table.id))}`);
    this.db.prepare('DELETE FROM data_tables WHERE id = ?').run(table.id);
  }

  rowCount(table: StoredTable): number {
    const row = this.db
      .prepare(`SELECT COUNT(*) AS n FROM ${quoteIdentifier(physicalTableName(table.id))}`)
      .get() as { n: number };
    return row.n;
  }
}
