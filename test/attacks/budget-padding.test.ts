// Budget padding: every bucket padded with users who ran out, so victims pay a large bucket's price for a small bucket's noise.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { AnonymizedResult } from '../../src/shared/index.ts';
import { DEFAULT_ANONYMIZER_SETTINGS } from '../../src/anonymizer/index.ts';
import { ACCESS, countTable, FORMER_NOISE, openLab, type Lab } from './lab.ts';
import { describeScore, guessesFromEvidence, KAPPA_BAR, scoreAttack } from './scoring.ts';
import { IN_SUBSET, leastSquares, subsetRows } from './subsets.ts';
import { priceOf } from '../../src/cloak/budget-pricing.ts';

/** Victims (ATTACK_PADDING_VICTIMS) and padding users: 3 queries a victim, each padded. */
const VICTIMS = Number(process.env.ATTACK_PADDING_VICTIMS ?? 100);
const PADDING = Number(process.env.ATTACK_PADDING_USERS ?? 10_000);
const QUERIES_PER_VICTIM = 3;
/** One run over the padding and the victims; generous, for a loaded machine. */
const TIMEOUT_MS = Math.max(600_000, PADDING * 60);

/** Small buckets (groups of ten) for every padding user, one more than the budget pays for. */
const SMALL_COST = priceOf(10, DEFAULT_ANONYMIZER_SETTINGS);
const exhaust = (rho: number) => `const r = tables.t[0];
if (r.a === -1) for (let i = 0; i <= ${Math.floor(rho / SMALL_COST)}; i++) report_property("burn" + i, Math.floor(r.grp / 10));`;

/*
 * Every padding user reports every query; a victim reports the queries of its subsets when its
 * secret is 1. Each query's bucket asks for PADDING + about 25 users, so a victim was charged as
 * for a bucket of 10,000 (sd 300: 0.0000056, affordable thousands of times); the padding users, run out, are
 * left out, so the published count is the victims' alone, with the noise of a small count.
 */
const task = (
  queries: number,
  padded: boolean,
) => `const r = tables.t[0]; const inSubset = ${IN_SUBSET};
if (r.a === -1) { if (${padded}) for (let j = 0; j < ${queries}; j++) report_property("r", j); }
else if (r.victim === 1 && r.s === 1) {
  for (let j = 0; j < ${queries}; j++) if (inSubset(r.grp, j)) report_property("r", j);
}`;

async function attack(
  run: (code: string) => Promise<AnonymizedResult>,
  lab: Lab,
  { padded = true } = {},
) {
  const queries = QUERIES_PER_VICTIM * lab.victims;
  const result = await run(task(queries, padded));
  const counts = countTable(result).get('r') ?? new Map<string, number>();
  const rows = subsetRows(queries, lab.victims);
  const y = rows.map((_, j) => counts.get(String(j)) ?? 0);
  const bits = leastSquares(rows, y, lab.victims);
  return Object.assign(scoreAttack(guessesFromEvidence(bits.map((b) => b - 0.5)), lab.truth), {
    notice: result.budget,
  });
}

describe('budget padding attack', () => {
  let lab: Lab;
  beforeAll(async () => {
    // A run's own limit as generous as the test's: each padding user reports hundreds of buckets.
    const taskTimeoutSeconds = Math.ceil(TIMEOUT_MS / 1000);
    lab = await openLab({
      companions: 0,
      victims: VICTIMS,
      config: { cloak: { taskTimeoutSeconds } },
    });
    const padding: Record<string, unknown> = {};
    for (let i = 0; i < PADDING; i++)
      padding[`p${i}`] = { t: [{ grp: i, victim: 0, s: 0, a: -1 }] };
    await lab.inst.platform.cloak.data.insert(lab.orgId, padding);
    await lab.run(exhaust(lab.inst.platform.config.privacy.participationRho));
  }, TIMEOUT_MS);
  afterAll(() => lab.stop());

  // Prices follow the users kept (budget-settlement.ts): the padded buckets cost a victim what a
  // small bucket costs, so a victim is in about one of them.
  it(
    'fails: a padded bucket is priced at the users it keeps',
    async () => {
      const score = await attack(lab.run, lab);
      console.log(describeScore('padded reconstruction', score));
      // The padding really had run out (else the buckets are simply large and prove nothing).
      if (ACCESS === 'untrusted') {
        expect(score.notice?.may_be_low).toBe(true);
        expect(score.notice!.users_left_out).toBeGreaterThan(PADDING / 2);
      }
      expect(score.kappa).toBeLessThan(KAPPA_BAR);
    },
    TIMEOUT_MS,
  );

  // Without the fix the padded bucket published the victims alone with small-count noise, and
  // charged them as for 10,000 users: what the same queries get with no padding and no budget.
  // (With the old pricing put back in budget-settlement.ts, the padded run itself measured
  // kappa 1.000; docs/anonymization.md.) Today's small-count noise (sd 10) alone nearly holds it
  // at CI size (printed below); with the noise of the time (sd 3) it succeeds.
  it(
    'succeeds on what a padded bucket published before the fix, so the attack is real',
    async () => {
      const today = await attack(lab.runUnbudgeted, lab, { padded: false });
      console.log(describeScore('padded reconstruction, victims alone at no cost', today));
      const former = await attack((code) => lab.runWith(FORMER_NOISE, code), lab, {
        padded: false,
      });
      console.log(describeScore('the same with the former noise (sd 3)', former));
      expect(former.kappa).toBeGreaterThan(KAPPA_BAR);
    },
    TIMEOUT_MS,
  );
});
