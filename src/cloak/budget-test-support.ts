// Test support for the budget's unit tests: users, groups of them under labels, and one settled run.
import { DEFAULT_ANONYMIZER_SETTINGS, userKey, type UserKey } from '../anonymizer/index.ts';
import { priceOf } from './budget-pricing.ts';
import type { ParticipationBudget } from './participation-budget.ts';

export const SECRET = new Uint8Array(32).fill(9);
/**
 * The anonymizer these unit tests price buckets with: the defaults without the square-root part,
 * so that every bucket of up to 333 users costs the same, and a test's arithmetic (who runs out
 * where) does not depend on its groups' sizes. The mechanics tested are the same for any curve.
 */
export const BUDGET_TEST_SETTINGS = Object.freeze({ ...DEFAULT_ANONYMIZER_SETTINGS, sqrtNoise: 0 });
/** What a fresh small bucket costs each member (sd 10: 0.005). */
export const SMALL_COST = priceOf(10, BUDGET_TEST_SETTINGS);
/** Room for one small fresh bucket per user and not for two. */
export const ONE_SMALL_BUCKET = 1.5 * SMALL_COST;
export const DAY_MS = 86_400_000;

/** Labels, each with the users who report it. */
export type Groups = ReadonlyArray<readonly [string, readonly UserKey[]]>;

export const keys = (n: number, prefix: string): UserKey[] =>
  Array.from({ length: n }, (_, i) => userKey(SECRET, `${prefix}${i}`));

/** Small buckets (100 users, SMALL_COST each): the users split into groups labelled `label-i`. */
export const small = (label: string, users: readonly UserKey[]): Array<[string, UserKey[]]> =>
  Array.from({ length: Math.ceil(users.length / 100) }, (_, i) => [
    `${label}-${i}`,
    users.slice(i * 100, (i + 1) * 100),
  ]);

/** The users counted under every label `label-i`. */
export const total = (counts: Map<string, number>, label: string): number =>
  [...counts].filter(([l]) => l.startsWith(`${label}-`)).reduce((n, [, c]) => n + c, 0);

/** Adds every group's label for its users, all of one user's in a row (as the task runner does). */
export function collect<T extends { addProperty(l: string, v: string, u: UserKey): void }>(
  participation: T,
  groups: Groups,
): T {
  const labelsOf = new Map<UserKey, string[]>();
  for (const [label, users] of groups) {
    for (const user of users) labelsOf.set(user, [...(labelsOf.get(user) ?? []), label]);
  }
  for (const [user, labels] of labelsOf) {
    for (const label of labels) participation.addProperty(label, '1', user);
  }
  return participation;
}

/** One settled run of organisation 'o': the counts kept per label, who was left out, the notice. */
export async function run(budget: ParticipationBudget, groups: Groups) {
  const participation = collect(await budget.startRun('o', BUDGET_TEST_SETTINGS, SECRET), groups);
  try {
    const settled = await participation.settle();
    const counts = new Map<string, number>();
    for (const b of settled.aggregator.buckets()) {
      if (b.identity.kind === 'property') counts.set(b.identity.label, b.count);
    }
    return { counts, leftOut: settled.leftOut, notice: settled.notice };
  } finally {
    participation.close();
  }
}
