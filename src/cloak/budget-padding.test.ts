// Budget padding and the suppression bucket: what a member pays always matches the noise drawn for what is published.
import fc from 'fast-check';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { openSqliteDb, type SqliteSqlDb } from '../store/index.ts';
import {
  anonymize,
  countNoiseSd,
  DEFAULT_ANONYMIZER_SETTINGS,
  userKey,
  type AggregatedBucket,
  type UserKey,
} from '../anonymizer/index.ts';
import { ParticipationBudget, type Settlement } from './participation-budget.ts';
import { priceOf } from './budget-pricing.ts';

const SETTINGS = DEFAULT_ANONYMIZER_SETTINGS;
const SECRET = new Uint8Array(32).fill(5);
const price = (count: number) => priceOf(count, SETTINGS);
const SMALL_COST = price(10);
/** Room for one small fresh bucket per user and not for two, as the default budget is. */
const ONE_SMALL_BUCKET = 1.5 * SMALL_COST;

type Reports = ReadonlyArray<[user: UserKey, buckets: ReadonlyArray<[string, string]>]>;

async function settle(budget: ParticipationBudget, reports: Reports): Promise<Settlement> {
  const run = await budget.startRun('o', SETTINGS, SECRET);
  for (const [user, buckets] of reports) {
    for (const [label, value] of buckets) run.addProperty(label, value, user);
  }
  try {
    return await run.settle();
  } finally {
    run.close();
  }
}

const keys = (n: number, prefix: string) =>
  Array.from({ length: n }, (_, i) => userKey(SECRET, `${prefix}${i}`));

/** The noise sd the anonymizer draws for a bucket. */
const drawnSd = (b: AggregatedBucket) =>
  countNoiseSd(Math.max(b.count, b.noiseCount ?? 0), SETTINGS);

/** Runs out `users`: two small buckets each, in groups of ten. */
async function exhaust(budget: ParticipationBudget, users: UserKey[], tag: string): Promise<void> {
  for (const round of ['1', '2']) {
    await settle(
      budget,
      users.map((u, i) => [u, [[`${tag}-burn${round}`, String(Math.floor(i / 10))]]]),
    );
  }
}

describe('budget padding', () => {
  let db: SqliteSqlDb;
  beforeEach(() => {
    db = openSqliteDb(':memory:');
  });
  afterEach(async () => db.close());

  it('prices a bucket padded with exhausted users at the users it keeps, not those who asked', async () => {
    const budget = new ParticipationBudget(db, { rho: ONE_SMALL_BUCKET, secret: SECRET });
    const padding = keys(10_000, 'p');
    await exhaust(budget, padding, 'pad');
    const members = keys(5, 'm');
    const { aggregator, settled } = await settle(budget, [
      ...padding.map((u): [UserKey, Array<[string, string]>] => [u, [['padded', 'x']]]),
      ...members.map((u): [UserKey, Array<[string, string]>] => [u, [['padded', 'x']]]),
    ]);
    const bucket = aggregator.property('padded', 'x')!;
    expect(bucket.count).toBe(5);
    // Each member paid what 5 users' noise is worth, and the count gets exactly that noise.
    for (const m of members) expect(await budget.spent('o', m)).toBeCloseTo(SMALL_COST, 12);
    expect(drawnSd(bucket)).toBe(countNoiseSd(5, SETTINGS));
    expect(settled.find((s) => s.requested === 10_005)).toMatchObject({ kept: 5, noiseCount: 5 });
  });

  it('charges every member the price of the noise its bucket is published with, whoever is left out', async () => {
    // Random runs over users who already spent part of their budget, some of them all of it, with
    // buckets large enough (over 900 users) that their price depends on how many are kept.
    const scenario = fc.record({
      users: fc.integer({ min: 20, max: 3_000 }),
      // How many small buckets user i saw before: levels[i % 8]; 3 runs a user out.
      levels: fc.array(fc.constantFrom(0, 0, 1, 2, 3), { minLength: 8, maxLength: 8 }),
      buckets: fc.array(
        fc.record({ from: fc.nat(2_999), size: fc.integer({ min: 3, max: 3_000 }) }),
        {
          minLength: 1,
          maxLength: 6,
        },
      ),
    });
    let run = 0;
    await fc.assert(
      fc.asyncProperty(scenario, async ({ users, levels, buckets }) => {
        const local = openSqliteDb(':memory:');
        try {
          const budget = new ParticipationBudget(local, { rho: 2.5 * SMALL_COST, secret: SECRET });
          const all = keys(users, `r${run++}-`);
          // Small buckets of ten first: levels[i % 8] of them for user i (a third runs it out).
          for (const k of [1, 2, 3]) {
            await settle(
              budget,
              all.flatMap((u, i): Reports =>
                levels[i % 8]! >= k ? [[u, [[`pre${k}`, String(Math.floor(i / 80))]]]] : [],
              ),
            );
          }
          const before = await Promise.all(all.map((u) => budget.spent('o', u)));
          const reports = all.map((u, i): [UserKey, Array<[string, string]>] => [
            u,
            buckets.flatMap((b, j): Array<[string, string]> =>
              (i - b.from + users) % users < Math.min(b.size, users) ? [['q', String(j)]] : [],
            ),
          ]);
          const { aggregator, settled, suppression } = await settle(budget, reports);
          const after = await Promise.all(all.map((u) => budget.spent('o', u)));
          const paid = after.map((spent, i) => spent - before[i]!);
          for (const s of settled.filter((s) => s.fresh && s.kept > 0)) {
            const { label, value } = s.identity as { label: string; value: string };
            // The suppression bucket is settled too, and handed to the anonymizer apart.
            const bucket = label === '*' ? suppression! : aggregator.property(label, value)!;
            expect(s.kept).toBe(bucket.count);
            expect(s.cost).toBeCloseTo(1 / (2 * drawnSd(bucket) ** 2), 12);
          }
          // And nobody paid for more than the buckets they were kept in (and "*", if any).
          const costOf = new Map(
            settled.map((s) => [(s.identity as { value: string }).value, s.cost]),
          );
          reports.forEach(([, asked], i) => {
            const kept = asked.filter(([l, v]) => (aggregator.property(l, v)?.count ?? 0) > 0);
            const most = kept.reduce((sum, [, v]) => sum + costOf.get(v)!, costOf.get('*') ?? 0);
            expect(paid[i]!).toBeLessThanOrEqual(most + 1e-12);
          });
        } finally {
          await local.close();
        }
      }),
      { numRuns: 30 },
    );
  });
});

describe('the suppression bucket under the budget', () => {
  let db: SqliteSqlDb;
  beforeEach(() => {
    db = openSqliteDb(':memory:');
  });
  afterEach(async () => db.close());

  /** Each chosen user alone under a label of its own: every one lands in "*". */
  const alone = (users: UserKey[], tag: string): Reports =>
    users.map((u, i) => [u, [[`${tag}${i}`, 'x']]]);

  it('charges its members like any fresh bucket, and leaves out those who cannot pay', async () => {
    const budget = new ParticipationBudget(db, { rho: ONE_SMALL_BUCKET, secret: SECRET });
    const chosen = keys(40, 'v');
    const first = await settle(budget, alone(chosen, 'a'));
    expect(first.suppression?.count).toBe(40);
    for (const u of chosen) expect(await budget.spent('o', u)).toBeCloseTo(SMALL_COST, 12);
    // The same users in another "*": a fresh user set they can no longer pay for.
    const second = await settle(budget, alone(chosen.slice(0, 30), 'b'));
    expect(second.suppression).toBeUndefined();
    const result = anonymize(second.aggregator, SECRET, SETTINGS, { bucket: second.suppression });
    expect(result.buckets.find((b) => b.label === '*')).toBeUndefined();
    for (const u of chosen) expect(await budget.spent('o', u)).toBeCloseTo(SMALL_COST, 12);
  });

  it('publishes the same "*" again for free when the same task runs again', async () => {
    const budget = new ParticipationBudget(db, { rho: ONE_SMALL_BUCKET, secret: SECRET });
    const chosen = keys(40, 'v');
    const once = await settle(budget, alone(chosen, 'a'));
    const spent = await Promise.all(chosen.map((u) => budget.spent('o', u)));
    const again = await settle(budget, alone(chosen, 'a'));
    expect(again.suppression).toEqual(once.suppression);
    expect(await Promise.all(chosen.map((u) => budget.spent('o', u)))).toEqual(spent);
    expect(anonymize(again.aggregator, SECRET, SETTINGS, { bucket: again.suppression })).toEqual(
      anonymize(once.aggregator, SECRET, SETTINGS, { bucket: once.suppression }),
    );
  });

  it('prices a "*" padded with exhausted users at the users it keeps', async () => {
    const budget = new ParticipationBudget(db, { rho: ONE_SMALL_BUCKET, secret: SECRET });
    const padding = keys(5_000, 'p');
    await exhaust(budget, padding, 'pad');
    const chosen = keys(6, 'v');
    const { suppression } = await settle(budget, [...alone(padding, 'x'), ...alone(chosen, 'y')]);
    expect(suppression?.count).toBe(6);
    expect(drawnSd(suppression!)).toBe(countNoiseSd(6, SETTINGS));
    for (const u of chosen) expect(await budget.spent('o', u)).toBeCloseTo(SMALL_COST, 12);
  });
});
