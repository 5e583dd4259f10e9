// The catalogue of user tables on PostgreSQL, and the physical tables behind it.
import { AppError } from '../../errors/index.ts';
import type { ColumnDefinition } from '../../shared/index.ts';
import type { SqlExecutor } from '../../store/index.ts';
import { storageType } from './column-types.ts';
import { listNames, quoteIdentifier } from './names.ts';
import { physicalTableName, type StoredTable } from './table-catalogue.ts';

interface CatalogueRow {
  id: number;
  name: string;
  columns: string;
  version: number;
}

/** PostgreSQL's SQLSTATE for a unique index refusing a row. */
export const UNIQUE_VIOLATION = '23505';

export function isUniqueViolation(error: unknown): boolean {
  return (error as { code?: unknown } | null)?.code === UNIQUE_VIOLATION;
}

/**
 * Text compares by code point as on SQLite (`COLLATE "C"`): filters, sql tasks and the per-user
 * order agree across dialects. Booleans stay 0/1 integers, as on SQLite, so one reader serves both.
 */
const PG_TYPES = { INTEGER: 'BIGINT', REAL: 'DOUBLE PRECISION', TEXT: 'TEXT COLLATE "C"' };

export function pgColumnType(column: ColumnDefinition): string {
  return PG_TYPES[storageType(column.type)];
}

function fromRow(row: CatalogueRow): StoredTable {
  return {
    id: Number(row.id),
    name: row.name,
    columns: JSON.parse(row.columns) as ColumnDefinition[],
    version: Number(row.version),
  };
}

const COLUMNS = 'SELECT id, name, columns, version FROM data_tables';

/** Every lookup is scoped by organisation; `lock` takes the entry's row lock for the transaction. */
export class PostgresCatalogue {
  constructor(private readonly db: SqlExecutor) {}

  async findIgnoringCase(
    orgId: string,
    name: string,
    lock?: 'FOR SHARE' | 'FOR UPDATE',
  ): Promise<StoredTable | undefined> {
    const row = await this.db.get<CatalogueRow>(
      `${COLUMNS} WHERE org_id = ? AND lower(name) = lower(?)${lock ? ` ${lock}` : ''}`,
      [orgId, name],
    );
    return row && fromRow(row);
  }

  /** The table with exactly this name (names are case-sensitive, but unique ignoring case). */
  async find(
    orgId: string,
    name: string,
    lock?: 'FOR SHARE' | 'FOR UPDATE',
  ): Promise<StoredTable | undefined> {
    const table = await this.findIgnoringCase(orgId, name, lock);
    return table?.name === name ? table : undefined;
  }

  /** In name order, as SQLite's BINARY order: code points. */
  async list(orgId: string, lock?: 'FOR SHARE'): Promise<StoredTable[]> {
    const rows = await this.db.all<CatalogueRow>(
      `${COLUMNS} WHERE org_id = ? ORDER BY name COLLATE "C"${lock ? ` ${lock}` : ''}`,
      [orgId],
    );
    return rows.map(fromRow);
  }

  async require(
    orgId: string,
    name: string,
    lock?: 'FOR SHARE' | 'FOR UPDATE',
  ): Promise<StoredTable> {
    const table = await this.find(orgId, name, lock);
    if (!table) throw await this.unknownTable(orgId, name);
    return table;
  }

  async unknownTable(orgId: string, name: string): Promise<AppError> {
    return unknownTableError(name, await this.list(orgId));
  }

  /** Call inside a transaction: the catalogue entry and the physical table appear together. */
  async create(
    orgId: string,
    name: string,
    columns: ColumnDefinition[],
    now: number,
  ): Promise<StoredTable> {
    const existing = await this.findIgnoringCase(orgId, name);
    if (existing) throw new AppError('TABLE_EXISTS', { table: existing.name });
    const row = await this.db.get<{ id: number }>(
      'INSERT INTO data_tables (org_id, name, columns, version, created_at, updated_at) VALUES (?, ?, ?, 1, ?, ?) RETURNING id',
      [orgId, name, JSON.stringify(columns), now, now],
    );
    const id = Number(row!.id);
    const declared = columns.map((c) => `, ${quoteIdentifier(c.name)} ${pgColumnType(c)}`).join('');
    // The primary key's index orders rows by (user, arrival sequence), the order streams read.
    await this.db.exec(
      `CREATE TABLE ${quoteIdentifier(physicalTableName(id))} (ac_user_id TEXT COLLATE "C" NOT NULL, ` +
        `ac_seq BIGINT NOT NULL, ac_arrival BIGINT NOT NULL${declared}, PRIMARY KEY (ac_user_id, ac_seq))`,
    );
    return { id, name, columns, version: 1 };
  }

  /** Call inside a transaction, with the entry locked FOR UPDATE; drops run before adds. */
  async alter(
    table: StoredTable,
    drop: readonly string[],
    add: readonly ColumnDefinition[],
    now: number,
  ): Promise<StoredTable> {
    const physical = quoteIdentifier(physicalTableName(table.id));
    for (const name of drop)
      await this.db.exec(`ALTER TABLE ${physical} DROP COLUMN ${quoteIdentifier(name)}`);
    for (const c of add) {
      await this.db.exec(
        `ALTER TABLE ${physical} ADD COLUMN ${quoteIdentifier(c.name)} ${pgColumnType(c)}`,
      );
    }
    const columns = [...table.columns.filter((c) => !drop.includes(c.name)), ...add];
    const version = table.version + 1;
    await this.db.run(
      'UPDATE data_tables SET columns = ?, version = ?, updated_at = ? WHERE id = ?',
      [JSON.stringify(columns), version, now, table.id],
    );
    return { ...table, columns, version };
  }

  /** Call inside a transaction. */
  async drop(table: StoredTable): Promise<void> {
    await this.db.exec(`DROP TABLE ${quoteIdentifier(physicalTableName(table.id))}`);
    await this.db.run('DELETE FROM data_tables WHERE id = ?', [table.id]);
  }

  async rowCount(table: StoredTable): Promise<number> {
    const row = await this.db.get<{ n: number }>(
      `SELECT count(*) AS n FROM ${quoteIdentifier(physicalTableName(table.id))}`,
    );
    return Number(row!.n);
  }
}

export function unknownTableError(name: string, tables: readonly StoredTable[]): AppError {
  return new AppError('UNKNOWN_TABLE', {
    table: name,
    known: listNames(tables.map((t) => t.name)),
  });
}
