// The budget's bulk reads and writes of users' pages (budget-pages.ts), per dialect.
import {
  statementCache,
  type SqlDb,
  type SqlExecutor,
  type SqliteSqlDb,
  type SqlValue,
} from '../store/index.ts';

/** One stored page of users' states. */
export interface PageRow {
  page: number;
  states: Buffer;
}

/** Rows per statement: well inside SQLite's 32,766 and PostgreSQL's 65,535 bound parameters. */
const ROWS_PER_STATEMENT = 500;

const SAVE_PAGE = 'INSERT INTO budget_pages (org_id, page, states) VALUES ';
const SAVE_PAGE_CONFLICT = ' ON CONFLICT (org_id, page) DO UPDATE SET states = excluded.states';

/**
 * The settlement's hot statements. Both dialects speak the same SQL; what differs is how many rows
 * one statement carries: inside SQLite's transaction a prepared single-row upsert is the fastest,
 * PostgreSQL pays a round trip per statement, so there a statement carries a few hundred rows.
 */
export interface BudgetRows {
  loadPages(tx: SqlExecutor, orgId: string, pages: readonly number[]): Promise<PageRow[]>;
  savePages(tx: SqlExecutor, orgId: string, pages: readonly PageRow[]): Promise<void>;
}

export function budgetRows(db: SqlDb): BudgetRows {
  return db.dialect === 'sqlite' && 'raw' in db
    ? sqliteRows(db as SqliteSqlDb)
    : { loadPages, savePages: savePagesBatched };
}

/** SQLite: better-sqlite3's synchronous statements on the transaction's own connection. */
function sqliteRows(db: SqliteSqlDb): BudgetRows {
  const sql = statementCache(db.raw);
  return {
    async loadPages(_tx, orgId, pages) {
      const found: PageRow[] = [];
      for (const chunk of chunks(pages)) {
        found.push(...(sql(loadPagesSql(chunk.length)).all(orgId, ...chunk) as PageRow[]));
      }
      return found;
    },
    async savePages(_tx, orgId, pages) {
      const upsert = sql(`${SAVE_PAGE}(?, ?, ?)${SAVE_PAGE_CONFLICT}`);
      for (const { page, states } of pages) upsert.run(orgId, page, states);
    },
  };
}

function loadPagesSql(n: number): string {
  return `SELECT page, states FROM budget_pages WHERE org_id = ? AND page IN (${placeholders(n)})`;
}

async function loadPages(
  tx: SqlExecutor,
  orgId: string,
  pages: readonly number[],
): Promise<PageRow[]> {
  const found: PageRow[] = [];
  for (const chunk of chunks(pages)) {
    found.push(...(await tx.all<PageRow>(loadPagesSql(chunk.length), [orgId, ...chunk])));
  }
  return found;
}

async function savePagesBatched(
  tx: SqlExecutor,
  orgId: string,
  pages: readonly PageRow[],
): Promise<void> {
  for (const chunk of chunks(pages)) {
    const params: SqlValue[] = [];
    for (const { page, states } of chunk) params.push(orgId, page, states);
    const values = chunk.map(() => '(?, ?, ?)').join(', ');
    await tx.run(`${SAVE_PAGE}${values}${SAVE_PAGE_CONFLICT}`, params);
  }
}

/** `?, ?, ...`: n placeholders. */
export function placeholders(n: number): string {
  return Array.from({ length: n }, () => '?').join(', ');
}

/** Splits `items` into statements of at most ROWS_PER_STATEMENT. */
export function* chunks<T>(items: readonly T[], size = ROWS_PER_STATEMENT): Generator<T[]> {
  for (let i = 0; i < items.length; i += size) yield items.slice(i, i + size);
}
