// Users' budget pages: the page layout against a plain map, splits, and the move from one row per user.
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { runMigrations } from '../store/index.ts';
import { TEST_DIALECTS, type TestDb } from '../store/test-support.ts';
import type { UserState } from './budget-account.ts';
import { BudgetStore } from './budget-ledger.ts';
import {
  findState,
  locate,
  MIN_PAGE_BITS,
  pageOf,
  recordsIn,
  rewritePageAt,
  splitPage,
  SPLIT_RECORDS,
  upperHalf,
} from './budget-pages.ts';
import { BUDGET_COMPONENT, BUDGET_STEPS, migrateBudgetTables } from './budget-schema.ts';
import { keys, ONE_SMALL_BUCKET, run, SECRET, small, SMALL_COST } from './budget-test-support.ts';
import { ParticipationBudget } from './participation-budget.ts';

const hashOf = (key: Uint8Array) => Buffer.from(key.subarray(0, 16));

/** A page with `changes` (sorted by hash) written, each found by `locate` as a run finds them. */
function rewritePage(
  page: Buffer | undefined,
  changes: ReadonlyArray<readonly [hash: Uint8Array, state: UserState]>,
  period: number,
): Buffer {
  const hashes = changes.map(([hash]) => hash);
  const where = new Int32Array(changes.length);
  locate(
    page,
    hashes,
    Int32Array.from(hashes, (_, i) => i),
    0,
    hashes.length,
    where,
  );
  return rewritePageAt(
    page,
    changes.map(([hash, state], i) => [hash, state, where[i]!] as const),
    period,
  );
}
const state = (spent: number, exhausted?: [number, number]): UserState => ({
  spent,
  exhausted,
  dirty: true,
});

describe('a budget page', () => {
  it('holds what was written, in the period written, against a plain map', () => {
    const users = keys(400, 'page');
    const model = new Map<string, { spent: number; out: boolean; period: number }>();
    let page: Buffer | undefined;
    // Rounds of random writes in periods 3, 3, 4, 4: each later period drops the earlier.
    let seed = 7;
    // 32-bit arithmetic, its high bits: in doubles the product passed 2^53 and lost its low bits.
    const next = () => (seed = (Math.imul(seed, 1103515245) + 12345) >>> 0) >>> 8;
    for (const period of [3, 3, 4, 4]) {
      const changes = users
        .filter(() => next() % 3 === 0)
        .map((k, i): [Buffer, UserState] => [
          hashOf(k),
          state(i / 7, i % 5 === 0 ? [period, i] : undefined),
        ])
        .sort(([a], [b]) => Buffer.compare(a, b));
      page = rewritePage(page, changes, period);
      for (const [h, s] of changes) {
        model.set(h.toString('hex'), { spent: s.spent, out: s.exhausted !== undefined, period });
      }
      for (const [hex, m] of model) if (m.period < period) model.delete(hex);
      expect(recordsIn(page)).toBe(model.size);
      for (const key of users) {
        const found = findState(page, hashOf(key), period);
        const expected = model.get(hashOf(key).toString('hex'));
        if (expected === undefined) expect(found).toBeUndefined();
        else
          expect({ spent: found!.spent, out: found!.exhausted !== undefined }).toEqual({
            spent: expected.spent,
            out: expected.out,
          });
      }
    }
    // Another period reads nobody: their spending is of an earlier one.
    expect(findState(page!, hashOf(users[0]!), 5)).toBeUndefined();
  });

  it('keeps the records of a later period (a clock set back) when rewritten', () => {
    const [a, b] = keys(2, 'clock').map(hashOf).sort(Buffer.compare);
    const later = rewritePage(undefined, [[a!, state(0.5)]], 9);
    const page = rewritePage(later, [[b!, state(0.25)]], 8);
    expect(findState(page, a!, 9)?.spent).toBe(0.5);
    expect(findState(page, b!, 8)?.spent).toBe(0.25);
  });

  it('locates hashes in one merge where a binary search puts them', () => {
    const all = keys(600, 'locate').map(hashOf).sort(Buffer.compare);
    // Every third hash stored; the asked ones are stored and not, first and last among them.
    const page = rewritePage(
      undefined,
      all.filter((_, i) => i % 3 === 0).map((h) => [h, state(1)] as const),
      0,
    );
    const asked = all.filter((_, i) => i % 2 === 0 || i === all.length - 1);
    // Shuffled indexes: `locate` writes each answer at the hash's own index.
    const order = Int32Array.from(asked, (_, i) => i).sort((a, b) =>
      Buffer.compare(asked[a]!, asked[b]!),
    );
    const shuffled = [...asked].reverse();
    const reversed = Int32Array.from(order, (i) => asked.length - 1 - i);
    const where = new Int32Array(asked.length);
    locate(page, shuffled, reversed, 0, asked.length, where);
    const stored = all.filter((_, i) => i % 3 === 0);
    shuffled.forEach((h, i) => {
      const index = stored.findIndex((s) => s.equals(h));
      const before = stored.filter((s) => Buffer.compare(s, h) < 0).length;
      expect(where[i]).toBe(index >= 0 ? index : -before - 1);
    });
    // An empty page: every hash goes in at the start.
    locate(undefined, shuffled, reversed, 0, asked.length, where);
    expect([...new Set(where)]).toEqual([-1]);
  });

  it('never drops another user’s record when one hash is written twice', () => {
    const [a, b, c] = keys(3, 'twice').map(hashOf).sort(Buffer.compare);
    const page = rewritePage(
      undefined,
      [
        [a!, state(1)],
        [b!, state(2)],
        [c!, state(3)],
      ],
      0,
    );
    // b found at record 1 twice (a user given twice in one step): c's record must stay.
    const twice = rewritePageAt(
      page,
      [
        [b!, state(4), 1],
        [b!, state(5), 1],
      ],
      0,
    );
    expect(findState(twice, a!, 0)?.spent).toBe(1);
    expect(findState(twice, c!, 0)?.spent).toBe(3);
    expect(recordsIn(twice)).toBe(4);
  });

  it('splits into the halves that pageOf names at one bit more', () => {
    const bits = MIN_PAGE_BITS;
    const inPage = keys(20_000, 'split')
      .map(hashOf)
      .filter((h) => pageOf(h, bits) === pageOf(Buffer.from([0x80, 0, 0]), bits))
      .sort(Buffer.compare);
    expect(inPage.length).toBeGreaterThan(40);
    const id = pageOf(inPage[0]!, bits);
    const page = rewritePage(
      undefined,
      inPage.map((h) => [h, state(1)] as const),
      0,
    );
    const [low, high] = splitPage(page, id, bits);
    expect(recordsIn(low) + recordsIn(high)).toBe(inPage.length);
    expect(recordsIn(low)).toBeGreaterThan(0);
    expect(recordsIn(high)).toBeGreaterThan(0);
    for (const h of inPage) {
      const half = pageOf(h, bits + 1) === id ? low : high;
      expect(pageOf(h, bits + 1)).toBe(half === low ? id : upperHalf(id, bits));
      expect(findState(half, h, 0)?.spent).toBe(1);
    }
  });
});

describe.each(TEST_DIALECTS)('budget pages on $dialect', ({ open }) => {
  let t: TestDb;
  beforeEach(async () => {
    t = await open();
  });
  afterEach(async () => t.cleanup());

  it('charges the same after the organisation’s pages split', async () => {
    // Room for two small fresh buckets per user and not for three.
    const budget = new ParticipationBudget(t.db, {
      rho: ONE_SMALL_BUCKET + SMALL_COST,
      secret: SECRET,
    });
    const crowd = keys(3000, 'c');
    await run(budget, small('first', crowd));
    const store = new BudgetStore(t.db, () => 0);
    for (const bits of [MIN_PAGE_BITS, MIN_PAGE_BITS + 1]) {
      await store.settle('o', (ledger) => ledger.splitPages('o', bits));
    }
    await store.settle('o', async (ledger) => {
      expect(await ledger.pageBits('o')).toBe(MIN_PAGE_BITS + 2);
    });
    for (const user of crowd.slice(0, 50)) {
      expect(await budget.spent('o', user)).toBeCloseTo(SMALL_COST, 12);
    }
    // A second fresh bucket fits, a third does not: the pages still know what each spent.
    expect((await run(budget, small('second', crowd))).leftOut).toBe(0);
    const third = await run(budget, small('third', crowd));
    expect(third.leftOut).toBe(3000);
    await store.settle('o', async (ledger) => {
      expect(await ledger.exhaustedCount('o', 0)).toBe(3000);
    });
  });

  it('moves one row per user into pages, with each user’s spending and who ran out', async () => {
    // The tables as version 2 left them, with users of two organisations and two periods.
    await runMigrations(t.db, BUDGET_COMPONENT, BUDGET_STEPS.slice(0, 2));
    const users = keys(1500, 'old');
    await t.db.run(
      `INSERT INTO budget_runs (org_id, last_seq, period) VALUES ('o', 4, 7), ('p', 1, 7)`,
    );
    for (let from = 0; from < users.length; from += 100) {
      const rows = users.slice(from, from + 100).map((user, j) => {
        const i = from + j;
        return [
          i % 2 === 0 ? 'o' : 'p',
          hashOf(user),
          i / 1000,
          i % 3 === 0 ? 4 : null,
          i % 3 === 0 ? i % 7 : null,
          i % 5 === 0 ? 6 : 7,
        ];
      });
      await t.db.run(
        `INSERT INTO budget_users VALUES ${rows.map(() => '(?, ?, ?, ?, ?, ?)').join(', ')}`,
        rows.flat(),
      );
    }
    await migrateBudgetTables(t.db);
    const budget = new ParticipationBudget(t.db, { rho: 10, secret: SECRET, periodDays: 1 });
    const store = new BudgetStore(t.db, () => 7);
    await store.settle('o', async (ledger) => {
      const out = users.filter((_, i) => i % 2 === 0 && i % 3 === 0 && i % 5 !== 0).length;
      expect(await ledger.exhaustedCount('o', 7)).toBe(out);
      expect(await ledger.pageBits('o')).toBe(MIN_PAGE_BITS);
    });
    for (const [i, user] of users.entries()) {
      if (i % 50 !== 0) continue;
      const org = i % 2 === 0 ? 'o' : 'p';
      const spent = await new BudgetStore(t.db, () => 7).spent(org, user);
      expect(spent).toBeCloseTo(i % 5 === 0 ? 0 : i / 1000, 12);
      expect(await new BudgetStore(t.db, () => 6).spent(org, user)).toBeCloseTo(
        i % 5 === 0 ? i / 1000 : 0,
        12,
      );
    }
    expect(await budget.spent('o', users[1]!)).toBe(0);
    const left = await t.db.get(
      t.db.dialect === 'sqlite'
        ? "SELECT 1 AS found FROM sqlite_master WHERE name = 'budget_users'"
        : "SELECT 1 AS found FROM pg_tables WHERE tablename = 'budget_users' AND schemaname = current_schema()",
    );
    expect(left).toBeUndefined();
  });
});

describe('an organisation that outgrows its pages', () => {
  it('splits them when a run writes more than pageSplitRecords users a page on average', async () => {
    const [sqlite] = TEST_DIALECTS;
    const t = await sqlite!.open();
    try {
      const pageSplitRecords = 8;
      const budget = new ParticipationBudget(t.db, { rho: 1, secret: SECRET, pageSplitRecords });
      const crowd = keys(pageSplitRecords * 2 ** MIN_PAGE_BITS + 500, 'big');
      // One label for everyone: one bucket, charged to every user.
      await run(budget, [['all', crowd]]);
      const store = new BudgetStore(t.db, () => 0);
      await store.settle('o', async (ledger) => {
        expect(await ledger.pageBits('o')).toBe(MIN_PAGE_BITS + 1);
      });
      // Below the default, the same users would have kept their pages.
      expect(crowd.length).toBeLessThan(SPLIT_RECORDS * 2 ** MIN_PAGE_BITS);
      for (const user of crowd.slice(0, 20))
        expect(await budget.spent('o', user)).toBeGreaterThan(0);
    } finally {
      await t.cleanup();
    }
  });
});
