// The participation budget: fresh buckets cost, reruns are free, exhausted users are left out.
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { openSqliteDb, type SqliteSqlDb } from '../store/index.ts';
import {
  countNoiseSd,
  DEFAULT_ANONYMIZER_SETTINGS,
  userKey,
  type UserKey,
} from '../anonymizer/index.ts';
import { ParticipationBudget } from './participation-budget.ts';
import { priceOf } from './budget-pricing.ts';

const SECRET = new Uint8Array(32).fill(3);
const SMALL_COST = priceOf(10, DEFAULT_ANONYMIZER_SETTINGS);
/** Room for one small fresh bucket per user and not for two, as the default budget is. */
const ONE_SMALL_BUCKET = 1.5 * SMALL_COST;

/** Runs one "task": each user reports the listed (label, value) pairs. Returns counts per bucket. */
async function run(
  budget: ParticipationBudget,
  org: string,
  reports: ReadonlyArray<[user: UserKey, buckets: ReadonlyArray<[string, string]>]>,
): Promise<Map<string, number>> {
  const participation = await budget.startRun(org, DEFAULT_ANONYMIZER_SETTINGS);
  for (const [user, buckets] of reports) {
    for (const [label, value] of buckets) participation.addProperty(label, value, user);
  }
  const counts = new Map<string, number>();
  for (const b of (await participation.settle()).aggregator.buckets()) {
    if (b.identity.kind === 'property') {
      counts.set(`${b.identity.label}=${b.identity.value}`, b.count);
    }
  }
  return counts;
}

const keys = (n: number, prefix = 'u') =>
  Array.from({ length: n }, (_, i) => userKey(SECRET, `${prefix}${i}`));

describe('ParticipationBudget', () => {
  let db: SqliteSqlDb;
  beforeEach(() => {
    db = openSqliteDb(':memory:');
  });
  afterEach(async () => db.close());

  it('charges 1 / (2 sd^2) per fresh bucket above the floor, nothing at or below it', async () => {
    const budget = new ParticipationBudget(db, { rho: 10, secret: SECRET });
    const group = keys(10);
    await run(budget, 'o', [
      ...group.map((u): [UserKey, Array<[string, string]>] => [u, [['a', '1']]]),
      [userKey(SECRET, 'alone'), [['b', '1']]],
    ]);
    expect(await budget.spent('o', group[0]!)).toBeCloseTo(SMALL_COST, 10);
    expect(await budget.spent('o', userKey(SECRET, 'alone'))).toBe(0);
    // sd 10 users for small counts (docs/anonymization.md): 1 / (2 x 100).
    expect(SMALL_COST).toBeCloseTo(0.005, 4);
  });

  it('charges large buckets far less than small ones', async () => {
    const budget = new ParticipationBudget(db, { rho: 10, secret: SECRET });
    const many = keys(10_000);
    await run(
      budget,
      'o',
      many.map((u) => [u, [['country', 'DE']]]),
    );
    const sd = countNoiseSd(10_000, DEFAULT_ANONYMIZER_SETTINGS);
    expect(await budget.spent('o', many[0]!)).toBeCloseTo(1 / (2 * sd * sd), 10);
    expect(await budget.spent('o', many[0]!)).toBeLessThan(SMALL_COST / 100);
  });

  it('runs the same task again for free, with the same result, after users ran out', async () => {
    const budget = new ParticipationBudget(db, { rho: ONE_SMALL_BUCKET, secret: SECRET });
    const group = keys(10);
    const task = group.map((u): [UserKey, Array<[string, string]>] => [
      u,
      Array.from({ length: 20 }, (_, i): [string, string] => [`g${i}`, 'x']),
    ]);
    const first = await run(budget, 'o', task);
    const spent = await Promise.all(group.map((u) => budget.spent('o', u)));
    // One small fresh bucket fits; the group runs out at the second.
    expect([...first.values()].filter((c) => c === 10)).toHaveLength(1);
    expect(spent.every((s) => s === spent[0] && s < ONE_SMALL_BUCKET)).toBe(true);
    for (let i = 0; i < 3; i++) {
      expect(await run(budget, 'o', task)).toEqual(first);
      expect(await Promise.all(group.map((u) => budget.spent('o', u)))).toEqual(spent);
    }
  });

  it('leaves exhausted users out of fresh buckets, and charges no one for them', async () => {
    const budget = new ParticipationBudget(db, { rho: ONE_SMALL_BUCKET, secret: SECRET });
    const victim = userKey(SECRET, 'victim');
    const group = keys(10);
    await run(budget, 'o', [
      [victim, [['first', '1']]],
      ...group.map((u): [UserKey, Array<[string, string]>] => [u, [['first', '1']]]),
    ]);
    // A second small bucket with the victim: fresh, unaffordable, so the victim is left out.
    const others = keys(10, 'w');
    const second = await run(budget, 'o', [
      [victim, [['second', '1']]],
      ...others.map((u): [UserKey, Array<[string, string]>] => [u, [['second', '1']]]),
    ]);
    expect(second.get('second=1')).toBe(10);
    expect(await budget.spent('o', victim)).toBeCloseTo(SMALL_COST, 10);
    // Still left out of a cheap bucket: running out is final for fresh buckets.
    const crowd = keys(10_000, 'c');
    const third = await run(budget, 'o', [
      [victim, [['big', '1']]],
      ...crowd.map((u): [UserKey, Array<[string, string]>] => [u, [['big', '1']]]),
    ]);
    expect(third.get('big=1')).toBe(10_000);
  });

  it('keeps each organisation’s budget apart, and survives reopening the database', async () => {
    const budget = new ParticipationBudget(db, { rho: ONE_SMALL_BUCKET, secret: SECRET });
    const group = keys(10);
    const task = (label: string) =>
      group.map((u): [UserKey, Array<[string, string]>] => [u, [[label, '1']]]);
    await run(budget, 'a', task('x'));
    expect((await run(budget, 'a', task('y'))).get('y=1')).toBeUndefined();
    expect((await run(budget, 'b', task('y'))).get('y=1')).toBe(10);
    const again = new ParticipationBudget(db, { rho: ONE_SMALL_BUCKET, secret: SECRET });
    expect(await again.spent('a', group[0]!)).toBeCloseTo(SMALL_COST, 10);
    expect((await run(again, 'a', task('x'))).get('x=1')).toBe(10);
  });

  it('refuses a budget that is not a positive finite number', async () => {
    expect(() => new ParticipationBudget(db, { rho: 0, secret: SECRET })).toThrow(
      /participation budget/,
    );
    expect(() => new ParticipationBudget(db, { rho: Infinity, secret: SECRET })).toThrow(
      /participation budget/,
    );
  });
});
