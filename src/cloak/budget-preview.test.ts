// A cost preview settles a run and rolls it back: it spends nobody's budget, yet takes its k; the budget state shows the notices.
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { openSqliteDb, type SqliteSqlDb } from '../store/index.ts';
import { DISCLOSURE_RHO, disclosureSd } from './budget-disclosure.ts';
import { ParticipationBudget } from './participation-budget.ts';
import {
  collect,
  DAY_MS,
  type Groups,
  keys,
  ONE_SMALL_BUCKET,
  run,
  SECRET,
  BUDGET_TEST_SETTINGS,
} from './budget-test-support.ts';

async function preview(budget: ParticipationBudget, groups: Groups) {
  const participation = collect(
    await budget.startPreview('o', BUDGET_TEST_SETTINGS, SECRET),
    groups,
  );
  try {
    return await participation.settle();
  } finally {
    participation.close();
  }
}

/** Everything the budget stores about users and buckets, seq aside (a preview moves it by one). */
async function stored(db: SqliteSqlDb) {
  return {
    users: await db.all('SELECT page, hex(states) AS states FROM budget_pages ORDER BY page'),
    counts: await db.all('SELECT page_bits, exhausted_period, exhausted_users FROM budget_runs'),
    buckets: await db.all('SELECT hex(hash) AS h, idx, basis FROM budget_buckets ORDER BY h'),
  };
}

describe('a cost preview', () => {
  let dbs: SqliteSqlDb[];
  const open = (options: { periodDays?: number; now?: () => number } = {}) => {
    const db = openSqliteDb(':memory:');
    dbs.push(db);
    return {
      db,
      budget: new ParticipationBudget(db, { rho: ONE_SMALL_BUCKET, secret: SECRET, ...options }),
    };
  };
  beforeEach(() => {
    dbs = [];
  });
  afterEach(() => dbs.forEach((db) => db.close()));

  const group = keys(400, 'g');
  const others = keys(300, 'h');
  const fresh = keys(250, 'f');
  const next: Groups = [
    ['b', [...group, ...others]],
    ['c', group],
    ['d', fresh],
    ['e', fresh],
  ];

  it('spends nothing: users, bucket memory and the next run are as if it had not happened, but for k', async () => {
    const withPreview = open();
    const without = open();
    for (const { budget } of [withPreview, without]) await run(budget, [['a', group]]);
    const before = await stored(withPreview.db);

    const notice = await preview(withPreview.budget, next);
    expect(await stored(withPreview.db)).toEqual(before);
    for (const user of [...group, ...others, ...fresh]) {
      expect(await withPreview.budget.spent('o', user)).toBe(await without.budget.spent('o', user));
    }

    const after = await run(withPreview.budget, next);
    const plain = await run(without.budget, next);
    expect(after.counts).toEqual(plain.counts);
    expect(after.leftOut).toBe(plain.leftOut);
    expect(await stored(withPreview.db)).toEqual(await stored(without.db));
    // Only the notice differs: it is the period's third, not its second.
    expect(plain.notice.period_run).toBe(2);
    expect(notice.period_run).toBe(2);
    expect(after.notice.period_run).toBe(3);
    expect(after.notice.noise_sd).toBe(Math.round(disclosureSd(3)));
  });

  it('says before the run that a task would leave out many users, those it would exhaust included', async () => {
    const { budget } = open();
    await run(budget, [['a', group]]);
    // 400 users who have spent their budget, and 250 fresh ones who would run out at their second
    // small bucket: about 650 left out, and the real run agrees.
    const notice = await preview(budget, next);
    expect(notice.may_be_low).toBe(true);
    expect(Math.abs(notice.users_left_out - 650)).toBeLessThan(4 * disclosureSd(2) + 5);
    expect(notice.message).toMatch(
      /^This task would leave out about \d+ users who have spent .* or would run out of it during this task/,
    );
    expect(notice.message).toMatch(/This preview spent nobody's budget/);
    expect((await run(budget, next)).leftOut).toBe(650);
  });

  it('says there is no sign of anyone left out when nobody would be', async () => {
    const { budget } = open();
    const notice = await preview(budget, [['a', group]]);
    expect(notice.may_be_low).toBe(false);
    expect(notice.message).toMatch(
      /^Too few users this task would leave out for the participation budget to show/,
    );
    expect(await budget.spent('o', group[0]!)).toBe(0);
  });
});

describe('the budget state', () => {
  let db: SqliteSqlDb;
  beforeEach(() => {
    db = openSqliteDb(':memory:');
  });
  afterEach(async () => db.close());

  it('starts with no notices, and the first one’s noise next', async () => {
    const budget = new ParticipationBudget(db, { rho: 0.1, secret: SECRET });
    expect(await budget.state('o', 10)).toEqual({
      rho: 0.1,
      disclosure_rho: DISCLOSURE_RHO,
      period_days: 0,
      renews_at: null,
      runs_this_period: 0,
      next_noise_sd: 22,
      disclosures: [],
    });
  });

  it('lists every notice as published, newest first, runs and previews alike, each taking a k', async () => {
    let now = 3 * DAY_MS;
    const budget = new ParticipationBudget(db, {
      rho: ONE_SMALL_BUCKET,
      secret: SECRET,
      periodDays: 7,
      now: () => now,
    });
    const group = keys(300, 'p');
    const first = (await run(budget, [['a', group]])).notice;
    now += 1000;
    const previewed = await preview(budget, [['b', group]]);
    now += 1000;
    const second = (await run(budget, [['b', group]])).notice;
    expect(second.period_run).toBe(3);

    const state = await budget.state('o', 10);
    expect(state).toMatchObject({
      period_days: 7,
      renews_at: 7 * DAY_MS,
      runs_this_period: 3,
      next_noise_sd: Math.round(disclosureSd(4)),
    });
    expect(state.disclosures).toEqual([
      { ...second, kind: 'run', at: 3 * DAY_MS + 2000, period: 0 },
      { ...previewed, kind: 'preview', at: 3 * DAY_MS + 1000, period: 0 },
      { ...first, kind: 'run', at: 3 * DAY_MS, period: 0 },
    ]);
    expect((await budget.state('o', 1)).disclosures).toHaveLength(1);
    expect(await budget.state('other', 10)).toMatchObject({ runs_this_period: 0, disclosures: [] });

    // A new period: its first notice is number 1 again; the old ones stay in the history.
    now = 7 * DAY_MS;
    expect(await budget.state('o', 10)).toMatchObject({
      runs_this_period: 0,
      next_noise_sd: 22,
      renews_at: 14 * DAY_MS,
    });
    expect((await run(budget, [['c', group]])).notice.period_run).toBe(1);
    expect((await budget.state('o', 10)).disclosures.map((d) => [d.period, d.period_run])).toEqual([
      [1, 1],
      [0, 3],
      [0, 2],
      [0, 1],
    ]);
  });
});

describe('notice numbers', () => {
  let db: SqliteSqlDb;
  beforeEach(() => {
    db = openSqliteDb(':memory:');
  });
  afterEach(async () => db.close());

  it('are taken when a run starts: one that never settles spends its k, and times say only when runs started', async () => {
    let now = 1_000;
    const budget = new ParticipationBudget(db, { rho: 0.1, secret: SECRET, now: () => now });
    const group = keys(50, 'n');
    // Cancelled (or timed out) before settling: whether it had finished must not show.
    const cancelled = await budget.startRun('o', BUDGET_TEST_SETTINGS, SECRET);
    cancelled.close();
    expect(await budget.state('o', 10)).toMatchObject({ runs_this_period: 1, disclosures: [] });

    now = 2_000;
    const participation = collect(await budget.startRun('o', BUDGET_TEST_SETTINGS, SECRET), [
      ['a', group],
    ]);
    now = 9_000; // the sandbox took 7 s: nothing in the notice or the log says so
    const { notice } = await participation.settle();
    participation.close();
    expect(notice.period_run).toBe(2);
    expect((await budget.state('o', 10)).disclosures).toEqual([
      { ...notice, kind: 'run', at: 2_000, period: 0 },
    ]);
  });

  it('go on from the settlement’s numbers in a cloak.db from before they were taken apart', async () => {
    // budget_runs as the first disclosures left it: notices numbered by settled runs.
    await db.exec(`CREATE TABLE budget_runs (org_id TEXT PRIMARY KEY, last_seq INTEGER NOT NULL,
      period INTEGER NOT NULL DEFAULT 0, period_runs INTEGER NOT NULL DEFAULT 0,
      period_first_seq INTEGER NOT NULL DEFAULT 1) STRICT;
      INSERT INTO budget_runs VALUES ('o', 7, 0, 7, 1);`);
    const budget = new ParticipationBudget(db, { rho: 0.1, secret: SECRET });
    expect((await budget.state('o', 1)).runs_this_period).toBe(7);
    expect((await run(budget, [['a', keys(20, 'm')]])).notice.period_run).toBe(8);
  });
});
