// The budgeted task sequence that server-mode tests run in every mode: the same data, tasks and settings, so results compare byte for byte.
import type { Cloak } from '../../src/cloak/index.ts';
import type { ConfigInput } from '../../src/config/index.ts';

export const ORG = 'acme';
const USERS = 600;

/** Small, so that the sequence exhausts users and the budget changes what later tasks publish. */
export const SETTINGS: ConfigInput = {
  privacy: { releaseSchedule: false, participationRho: 0.3 },
  cloak: { sandboxProcesses: 1 },
};

/** A deterministic generator: every store filled by `fill` holds the same rows. */
function generator(seed: number) {
  let state = seed;
  return (n: number) => {
    // 32-bit arithmetic, its high bits: in doubles the product passed 2^53 and lost its low bits.
    state = (Math.imul(state, 1103515245) + 12345) >>> 0;
    return (state >>> 8) % n;
  };
}

/**
 * One table of purchases and one lookup table, the same on SQLite and on PostgreSQL, in
 * organisation `orgId` (an air organisation's id when the test runs the air too).
 */
export async function fill(cloak: Cloak, orgId = ORG): Promise<void> {
  await cloak.data.createTable(orgId, {
    name: 'purchases',
    columns: [
      { name: 'amount', type: 'integer' },
      { name: 'shop', type: 'text' },
    ],
  });
  await cloak.data.setLookupTable(orgId, 'regions', [
    ['north', 'N'],
    ['south', 'S'],
  ]);
  const r = generator(11);
  const payload: Record<string, unknown> = {};
  for (let u = 0; u < USERS; u++) {
    const rows = Array.from({ length: 1 + r(4) }, () => ({
      amount: r(500),
      shop: ['north', 'south', 'east'][r(3)],
    }));
    payload[`user-${u}`] = { purchases: rows };
  }
  await cloak.data.insert(orgId, payload);
}

/** Rows that arrive later (between scheduled runs): a new purchase for a third of the users. */
export async function arrive(cloak: Cloak, orgId = ORG): Promise<void> {
  const payload: Record<string, unknown> = {};
  for (let u = 0; u < USERS; u += 3) {
    payload[`user-${u}`] = { purchases: [{ amount: (u * 7) % 500, shop: 'east' }] };
  }
  await cloak.data.insert(orgId, payload);
}

/** Budgeted tasks in sequence: the later ones publish what the earlier ones left of the budget. */
export const TASKS = [
  `for (const p of tables.purchases) report_property('shop', p.shop);`,
  `for (const p of tables.purchases) report_property('region', lookup('regions', p.shop) ?? '-');`,
  // Exceptions are counted like buckets, on every shard; early, while every user can still pay.
  `if (tables.purchases.some((p) => p.amount > 400)) throw new Error('a large purchase'); report_property('small', 'yes');`,
  // Many small fresh buckets: the budget runs out for some users here.
  ...[7, 11, 13, 17].map(
    (q) =>
      `for (const p of tables.purchases) report_property('bin${q}', Math.floor(p.amount / ${q}) % 12);`,
  ),
  // The first question again: sticky, free, and who is left out must match.
  `for (const p of tables.purchases) report_property('shop', p.shop);`,
];

/** Every task's published result, as JSON text. */
export async function runSequence(cloak: Cloak, orgId = ORG): Promise<string[]> {
  const published: string[] = [];
  for (const code of TASKS) {
    const result = await cloak.runner.run(orgId, { code, prefetch: [{ table: 'purchases' }] });
    published.push(JSON.stringify(result));
  }
  return published;
}
