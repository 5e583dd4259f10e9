// A deterministic, seeded generator of synthetic users for the demo, tests and benchmarks.

/** mulberry32: small, fast and seedable; this is test data, not noise (noise is keyed HMAC). */
export function seededRandom(seed: number): () => number {
  let state = seed >>> 0;
  return () => {
    state = (state + 0x6d2b79f5) >>> 0;
    let t = state;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

export const DEMO_TABLES = [
  {
    name: 'profile',
    columns: [
      { name: 'age', type: 'integer' },
      { name: 'height', type: 'integer' },
      { name: 'city', type: 'varchar(64)' },
    ],
  },
  {
    name: 'purchases',
    columns: [
      { name: 'amount', type: 'double' },
      { name: 'category', type: 'varchar(32)' },
      { name: 'ts', type: 'bigint' },
    ],
  },
] as const;

const CITIES = ['Berlin', 'Paris', 'Madrid', 'Rome', 'Vienna', 'Warsaw', 'Lisbon', 'Prague'];
const CITY_WEIGHTS = [0.25, 0.2, 0.15, 0.12, 0.1, 0.08, 0.06, 0.04];
const CATEGORIES = ['groceries', 'books', 'electronics', 'travel', 'clothing'];

export type UserRows = Record<string, Array<Record<string, string | number>>>;

function pickWeighted(random: () => number, items: string[], weights: number[]): string {
  let r = random();
  for (let i = 0; i < items.length; i++) {
    r -= weights[i]!;
    if (r <= 0) return items[i]!;
  }
  return items[items.length - 1]!;
}

function normal(random: () => number): number {
  const u = Math.max(random(), 1e-12);
  return Math.sqrt(-2 * Math.log(u)) * Math.cos(2 * Math.PI * random());
}

/** One user's rows: a profile and 0 to 9 purchases with a skewed amount distribution. */
export function syntheticUser(random: () => number, startEpochSeconds: number): UserRows {
  const age = Math.min(90, Math.max(16, Math.round(40 + 14 * normal(random))));
  const height = Math.round(172 + 9 * normal(random));
  const purchases = [];
  const count = Math.floor(random() * 10);
  for (let i = 0; i < count; i++) {
    purchases.push({
      amount: Math.round(Math.exp(3 + 1.2 * normal(random)) * 100) / 100,
      category: CATEGORIES[Math.floor(random() * CATEGORIES.length)]!,
      ts: startEpochSeconds + Math.floor(random() * 30 * 86_400),
    });
  }
  return {
    profile: [{ age, height, city: pickWeighted(random, CITIES, CITY_WEIGHTS) }],
    purchases,
  };
}

/** Users `user-00000`, `user-00001`, ... in batches shaped for POST /bulk_insert. */
export function* syntheticBatches(
  users: number,
  batchSize: number,
  seed = 42,
  startEpochSeconds = 1_767_225_600,
): Generator<Record<string, UserRows>> {
  const random = seededRandom(seed);
  let batch: Record<string, UserRows> = {};
  let inBatch = 0;
  for (let i = 0; i < users; i++) {
    batch[`user-${String(i).padStart(6, '0')}`] = syntheticUser(random, startEpochSeconds);
    if (++inBatch === batchSize) {
      yield batch;
      batch = {};
      inBatch = 0;
    }
  }
  if (inBatch > 0) yield batch;
}
