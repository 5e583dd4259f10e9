// One suite, both dialects: the participation budget's storage charges, remembers and numbers runs the same on SQLite and PostgreSQL.
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { appliedVersions, openPostgresDb, openSqliteDb, type SqlDb } from '../store/index.ts';
import { TEST_DIALECTS, type TestDb } from '../store/test-support.ts';
import { BUDGET_COMPONENT } from './budget-schema.ts';
import {
  keys,
  ONE_SMALL_BUCKET,
  run,
  SECRET,
  SMALL_COST,
  small,
  total,
  BUDGET_TEST_SETTINGS,
} from './budget-test-support.ts';
import { ParticipationBudget } from './participation-budget.ts';

/** A second handle on the same database, as a second server would open it. */
function secondHandle(t: TestDb): SqlDb {
  return t.db.dialect === 'postgres' ? openPostgresDb(t.address) : openSqliteDb(t.address);
}

describe.each(TEST_DIALECTS)('the budget’s storage on $dialect', ({ dialect, open }) => {
  let t: TestDb;
  beforeEach(async () => {
    t = await open();
  });
  afterEach(async () => t.cleanup());

  it('migrates its tables once and records the steps', async () => {
    const budget = new ParticipationBudget(t.db, { rho: 1, secret: SECRET });
    await budget.ready();
    await new ParticipationBudget(t.db, { rho: 1, secret: SECRET }).ready();
    expect(await appliedVersions(t.db, BUDGET_COMPONENT)).toEqual([1, 2, 3]);
  });

  it('charges fresh buckets, reruns them for free and leaves exhausted users out', async () => {
    const budget = new ParticipationBudget(t.db, { rho: ONE_SMALL_BUCKET, secret: SECRET });
    const crowd = keys(700, 'c');
    const first = await run(budget, small('first', crowd));
    expect(total(first.counts, 'first')).toBe(700);
    expect(await budget.spent('o', crowd[0]!)).toBeCloseTo(SMALL_COST, 12);
    // The same buckets again: free, and the same counts.
    const rerun = await run(budget, small('first', crowd));
    expect(rerun.counts).toEqual(first.counts);
    expect(await budget.spent('o', crowd[0]!)).toBeCloseTo(SMALL_COST, 12);
    // A fresh bucket each: nobody can afford it.
    const second = await run(budget, small('second', crowd));
    expect(total(second.counts, 'second')).toBe(0);
    expect(second.leftOut).toBe(700);
    expect(second.notice).toMatchObject({ may_be_low: true, period_run: 3 });
    // Another organisation's budget is its own.
    expect(await budget.spent('other', crowd[0]!)).toBe(0);
  });

  it('numbers notices when runs start and logs each one, newest first', async () => {
    const budget = new ParticipationBudget(t.db, { rho: 0.1, secret: SECRET, now: () => 5_000 });
    const group = keys(30, 'n');
    const cancelled = await budget.startRun('o', BUDGET_TEST_SETTINGS, SECRET);
    cancelled.close();
    const settled = await run(budget, [['a', group]]);
    expect(settled.notice.period_run).toBe(2);
    const state = await budget.state('o', 10);
    expect(state).toMatchObject({ runs_this_period: 2, renews_at: null });
    expect(state.disclosures).toEqual([{ ...settled.notice, kind: 'run', at: 5_000, period: 0 }]);
    expect(await budget.state('other', 10)).toMatchObject({ runs_this_period: 0, disclosures: [] });
  });

  it('rolls a preview back whole: nobody’s spending changes, its notice is logged', async () => {
    const budget = new ParticipationBudget(t.db, { rho: ONE_SMALL_BUCKET, secret: SECRET });
    const group = keys(100, 'p');
    const participation = await budget.startPreview('o', BUDGET_TEST_SETTINGS, SECRET);
    for (const user of group) participation.addProperty('a', '1', user);
    const notice = await participation.settle();
    participation.close();
    expect(notice.may_be_low).toBe(false);
    expect(await budget.spent('o', group[0]!)).toBe(0);
    const state = await budget.state('o', 10);
    expect(state.disclosures.map((d) => d.kind)).toEqual(['preview']);
    // The bucket is still fresh for the run: it is charged now.
    await run(budget, [['a', group]]);
    expect(await budget.spent('o', group[0]!)).toBeCloseTo(SMALL_COST, 12);
  });

  /*
   * Two servers settling runs of one organisation at once must not lose each other's charges.
   * SQLite's guard is BEGIN IMMEDIATE across processes; two handles in one process would block
   * each other inside better-sqlite3's synchronous busy wait, so there the runs go one at a time
   * and the test only checks the sums (the cross-process case is SQLite's own locking).
   */
  it('charges every run when two handles settle runs of one organisation at once', async () => {
    const other = secondHandle(t);
    try {
      const options = { rho: 100 * SMALL_COST, secret: SECRET };
      // One after the other: the constructor migrates, and on SQLite two handles migrating at
      // once would wait on each other.
      const here = new ParticipationBudget(t.db, options);
      await here.ready();
      const there = new ParticipationBudget(other, options);
      await there.ready();
      const group = keys(300, 's');
      // Eight runs, four per handle, each one fresh small bucket per user.
      const runs = Array.from(
        { length: 8 },
        (_, i) => () => run(i % 2 === 0 ? here : there, small(`r${i}`, group)),
      );
      const settled =
        dialect === 'postgres'
          ? await Promise.all(runs.map((r) => r()))
          : await runs.reduce(
              async (done, r) => [...(await done), await r()],
              Promise.resolve([] as Awaited<ReturnType<typeof run>>[]),
            );
      for (const s of settled) expect(s.leftOut).toBe(0);
      for (const user of group.slice(0, 5)) {
        expect(await here.spent('o', user)).toBeCloseTo(8 * SMALL_COST, 10);
      }
      const periodRuns = settled.map((s) => s.notice.period_run).sort((a, b) => a - b);
      expect(periodRuns).toEqual([1, 2, 3, 4, 5, 6, 7, 8]);
    } finally {
      await other.close();
    }
  });
});

describe('a cloak.db from before the migration runner', () => {
  it('opens with its spending and buckets, the missing columns and table added', async () => {
    const [sqlite] = TEST_DIALECTS;
    const t = await sqlite!.open();
    try {
      // The first release's tables, with a user who spent one small bucket.
      await t.db.exec(`
        CREATE TABLE budget_runs (org_id TEXT PRIMARY KEY, last_seq INTEGER NOT NULL) STRICT;
        CREATE TABLE budget_buckets (org_id TEXT NOT NULL, hash BLOB NOT NULL,
          seq INTEGER NOT NULL, idx INTEGER NOT NULL, PRIMARY KEY (org_id, hash)) STRICT, WITHOUT ROWID;
        CREATE TABLE budget_users (org_id TEXT NOT NULL, user_hash BLOB NOT NULL, spent REAL NOT NULL,
          exhausted_seq INTEGER, exhausted_idx INTEGER, PRIMARY KEY (org_id, user_hash)) STRICT, WITHOUT ROWID;
        INSERT INTO budget_runs VALUES ('o', 3);`);
      const [user] = keys(1, 'old');
      await t.db.run('INSERT INTO budget_users VALUES (?, ?, ?, NULL, NULL)', [
        'o',
        Buffer.from(user!.buffer, user!.byteOffset, 16),
        SMALL_COST,
      ]);
      const budget = new ParticipationBudget(t.db, { rho: 1, secret: SECRET });
      expect(await budget.spent('o', user!)).toBeCloseTo(SMALL_COST, 12);
      // The added columns work: a fresh bucket is charged on top of what was spent.
      const group = [user!, ...keys(20, 'new')];
      await run(budget, [['a', group]]);
      expect(await budget.spent('o', user!)).toBeGreaterThan(SMALL_COST * 1.5);
      expect(await appliedVersions(t.db, BUDGET_COMPONENT)).toEqual([1, 2, 3]);
    } finally {
      await t.cleanup();
    }
  });
});
