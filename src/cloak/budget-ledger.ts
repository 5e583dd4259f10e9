// The participation budget's storage (SQLite or PostgreSQL): users' spending, buckets already settled, run numbers.
import type { UserKey } from '../anonymizer/index.ts';
import type { SqlDb, SqlExecutor, SqlValue } from '../store/index.ts';
import {
  userHash,
  type BudgetLedger,
  type FirstSettled,
  type RunNumbers,
} from './budget-account.ts';
import {
  findState,
  MIN_PAGE_BITS,
  PAGE_ID_SPACE,
  pageOf,
  SPLIT_RECORDS,
  splitPage,
  upperHalf,
} from './budget-pages.ts';
import { budgetRows, chunks, placeholders, type BudgetRows, type PageRow } from './budget-rows.ts';
import { migrateBudgetTables } from './budget-schema.ts';

/** A notice's numbers, taken when its run starts: its noise's seed, and its k in the period. */
export interface NoticeNumbers {
  /** Among all the organisation's notices: seeds the notice's fresh noise. */
  seq: number;
  period: number;
  /** k: the notice's number in the period, from 1, which sets its noise (sd 22 k^0.75). */
  periodRun: number;
}

/** The class of PostgreSQL advisory lock under which one organisation's settlements take turns. */
const SETTLEMENT_LOCK = 0x0c1b;

/*
 * Concurrency. A settlement reads its users' spending, decides, and writes it back: two settlements
 * of one organisation that interleave would both read the old spending and one's charges would be
 * lost. On SQLite the transaction is BEGIN IMMEDIATE: one writer per file, across processes. On
 * PostgreSQL the transaction runs at READ COMMITTED and its first statement takes a transaction-
 * level advisory lock keyed by the organisation (pg_advisory_xact_lock): a second server's
 * settlement of the same organisation waits there until the first commits or rolls back, and
 * since READ COMMITTED takes a fresh snapshot per statement, everything it reads afterwards
 * includes the first one's charges. Other organisations settle in parallel. REPEATABLE READ or
 * SERIALIZABLE would take the snapshot at the lock statement, before the first one's commit, and
 * read stale spending (or fail with serialization errors); the lock is taken before any savepoint,
 * so a preview's rollback never drops it.
 */

/**
 * The tables behind ParticipationBudget (see there for what they mean). Every write of a
 * settlement happens inside `settle`'s transaction; `period` says which period is current.
 */
export class BudgetStore {
  readonly #ready: Promise<void>;
  readonly #rows: BudgetRows;

  constructor(
    private readonly db: SqlDb,
    private readonly period: () => number,
    private readonly splitRecords = SPLIT_RECORDS,
  ) {
    this.#rows = budgetRows(db);
    // Opening stays synchronous for callers; every method waits for the tables first, and an error
    // there (a damaged cloak.db) reaches the first caller rather than an unhandled rejection.
    this.#ready = migrateBudgetTables(db);
    this.#ready.catch(() => undefined);
  }

  /** Resolves when the tables are migrated (or rejects with why they could not be). */
  ready(): Promise<void> {
    return this.#ready;
  }

  /**
   * Takes the organisation's next notice numbers, when a run or preview starts. Taken then, and
   * kept whether or not the run ends, so that how many were taken says only how many runs were
   * started: a number taken at settlement would tell whether a run cancelled at a moment of the
   * analyst's choosing had finished by then, a timing channel the release schedule closes. One
   * statement: atomic on both dialects (PostgreSQL's upsert locks the row).
   */
  async takeNotice(orgId: string): Promise<NoticeNumbers> {
    await this.#ready;
    const period = this.period();
    const row = (await this.db.get(
      `INSERT INTO budget_runs (org_id, last_seq, notice_seq, notice_period, notice_period_runs)
       VALUES (?, 0, 1, ?, 1)
       ON CONFLICT (org_id) DO UPDATE SET
         notice_seq = budget_runs.notice_seq + 1,
         notice_period_runs = CASE WHEN budget_runs.notice_period = ?
           THEN budget_runs.notice_period_runs + 1 ELSE 1 END,
         notice_period = ?
       RETURNING notice_seq, notice_period_runs`,
      [orgId, period, period, period],
    )) as { notice_seq: number; notice_period_runs: number };
    return { seq: row.notice_seq, period, periodRun: row.notice_period_runs };
  }

  /** Notices (runs and previews started) the organisation has had in the current period. */
  async runsThisPeriod(orgId: string): Promise<number> {
    await this.#ready;
    const row = await this.db.get<{ notice_period: number; notice_period_runs: number }>(
      'SELECT notice_period, notice_period_runs FROM budget_runs WHERE org_id = ?',
      [orgId],
    );
    return row && row.notice_period === this.period() ? row.notice_period_runs : 0;
  }

  /** The loss spent by one user (by user key) in this period, for tests and operators. */
  async spent(orgId: string, user: UserKey): Promise<number> {
    await this.#ready;
    // In one transaction: a settlement that splits the pages meanwhile moves the user's page.
    return this.db.transaction(async (tx) => {
      const ledger = new TransactionLedger(tx, this.#rows, this.period, this.splitRecords);
      const [page] = await ledger.loadPages(orgId, [pageOf(user, await ledger.pageBits(orgId))]);
      return (page && findState(page.states, userHash(user), this.period())?.spent) ?? 0;
    });
  }

  /**
   * Runs one settlement of the organisation in one transaction, which `fn` reads and writes
   * through the ledger (and `tx` for its other tables); see "Concurrency" above.
   */
  async settle<T>(
    orgId: string,
    fn: (ledger: BudgetLedger, tx: SqlExecutor) => Promise<T>,
  ): Promise<T> {
    await this.#ready;
    return this.db.transaction(async (tx) => {
      if (tx.dialect === 'postgres') {
        await tx.exec('SET TRANSACTION ISOLATION LEVEL READ COMMITTED');
        await tx.get('SELECT pg_advisory_xact_lock(?, hashtext(?))', [SETTLEMENT_LOCK, orgId]);
      }
      return fn(new TransactionLedger(tx, this.#rows, this.period, this.splitRecords), tx);
    });
  }
}

/** The ledger inside one settlement's transaction. */
class TransactionLedger implements BudgetLedger {
  #savepoints = 0;

  constructor(
    private readonly tx: SqlExecutor,
    private readonly rows: BudgetRows,
    private readonly period: () => number,
    readonly splitRecords: number,
  ) {}

  async nextSeq(orgId: string): Promise<RunNumbers> {
    const period = this.period();
    const row = (await this.tx.get(
      `INSERT INTO budget_runs (org_id, last_seq, period, period_runs, period_first_seq)
       VALUES (?, 1, ?, 1, 1)
       ON CONFLICT (org_id) DO UPDATE SET
         last_seq = budget_runs.last_seq + 1,
         period_runs = CASE WHEN budget_runs.period = ? THEN budget_runs.period_runs + 1 ELSE 1 END,
         period_first_seq = CASE WHEN budget_runs.period = ?
           THEN budget_runs.period_first_seq ELSE budget_runs.last_seq + 1 END,
         period = ?
       RETURNING last_seq, period_runs, period_first_seq`,
      [orgId, period, period, period, period],
    )) as { last_seq: number; period_runs: number; period_first_seq: number };
    return {
      seq: row.last_seq,
      period,
      periodRun: row.period_runs,
      periodFirstSeq: row.period_first_seq,
    };
  }

  async exhaustedCount(orgId: string, period: number): Promise<number> {
    const row = await this.tx.get<{ exhausted_period: number; exhausted_users: number }>(
      'SELECT exhausted_period, exhausted_users FROM budget_runs WHERE org_id = ?',
      [orgId],
    );
    return row && Number(row.exhausted_period) === period ? Number(row.exhausted_users) : 0;
  }

  async addExhausted(orgId: string, period: number, users: number): Promise<void> {
    // The count starts again with each period, as the users' spending does.
    await this.tx.run(
      `UPDATE budget_runs SET
         exhausted_users = CASE WHEN exhausted_period = ? THEN exhausted_users + ? ELSE ? END,
         exhausted_period = ?
       WHERE org_id = ?`,
      [period, users, users, period, orgId],
    );
  }

  async pageBits(orgId: string): Promise<number> {
    const row = await this.tx.get<{ page_bits: number }>(
      'SELECT page_bits FROM budget_runs WHERE org_id = ?',
      [orgId],
    );
    return row ? Number(row.page_bits) : MIN_PAGE_BITS;
  }

  loadPages(orgId: string, pages: readonly number[]): Promise<PageRow[]> {
    return this.rows.loadPages(this.tx, orgId, pages);
  }

  savePages(orgId: string, pages: readonly PageRow[]): Promise<void> {
    return this.rows.savePages(this.tx, orgId, pages);
  }

  async splitPages(orgId: string, bits: number): Promise<void> {
    // A page keeps its id for its lower half (ids are the first hash of the page's range, at the
    // finest size), and the upper half takes an id no page had: nothing collides on the way.
    // Read a range of ids at a time, so that memory holds a slice of the pages, not all of them.
    const span = (PAGE_ID_SPACE / 2 ** bits) * 64;
    for (let from = 0; from < PAGE_ID_SPACE; from += span) {
      const rows = await this.tx.all<PageRow>(
        'SELECT page, states FROM budget_pages WHERE org_id = ? AND page >= ? AND page < ?',
        [orgId, from, from + span],
      );
      const halves: PageRow[] = [];
      for (const { page, states } of rows) {
        const [low, high] = splitPage(states, page, bits);
        halves.push({ page, states: low });
        if (high.length > 0) halves.push({ page: upperHalf(page, bits), states: high });
      }
      await this.rows.savePages(this.tx, orgId, halves);
    }
    await this.tx.run('UPDATE budget_runs SET page_bits = ? WHERE org_id = ?', [bits + 1, orgId]);
  }

  async known(orgId: string, hashes: readonly Buffer[]): Promise<Map<string, FirstSettled>> {
    const found = new Map<string, FirstSettled>();
    for (const chunk of chunks(hashes)) {
      const rows = await this.tx.all<FirstSettled & { hash: Buffer }>(
        `SELECT hash, seq, idx, basis FROM budget_buckets
         WHERE org_id = ? AND hash IN (${placeholders(chunk.length)})`,
        [orgId, ...chunk],
      );
      for (const { hash, seq, idx, basis } of rows) {
        found.set(hash.toString('latin1'), { seq, idx, basis });
      }
    }
    return found;
  }

  async remember(
    orgId: string,
    buckets: ReadonlyArray<readonly [Buffer, FirstSettled]>,
  ): Promise<void> {
    for (const chunk of chunks(buckets)) {
      const params: SqlValue[] = [];
      for (const [hash, { seq, idx, basis }] of chunk) params.push(orgId, hash, seq, idx, basis);
      // A bucket from an earlier period is settled again: its row moves to this one.
      await this.tx.run(
        `INSERT INTO budget_buckets (org_id, hash, seq, idx, basis)
         VALUES ${chunk.map(() => '(?, ?, ?, ?, ?)').join(', ')}
         ON CONFLICT (org_id, hash) DO UPDATE SET seq = excluded.seq, idx = excluded.idx,
           basis = excluded.basis`,
        params,
      );
    }
  }

  async tentatively<T>(fn: () => Promise<T>): Promise<T> {
    const name = `budget_try_${++this.#savepoints}`;
    await this.tx.exec(`SAVEPOINT ${name}`);
    try {
      const result = await fn();
      await this.tx.exec(`RELEASE SAVEPOINT ${name}`);
      return result;
    } catch (error) {
      await this.tx.exec(`ROLLBACK TO SAVEPOINT ${name}; RELEASE SAVEPOINT ${name}`);
      throw error;
    }
  }

  async hasUsers(orgId: string): Promise<boolean> {
    const row = await this.tx.get('SELECT 1 AS found FROM budget_pages WHERE org_id = ? LIMIT 1', [
      orgId,
    ]);
    return row !== undefined;
  }
}
