// The analyst-afternoon benchmark's seeded synthetic data: profiles in 40 Zipf-sized cities, purchases, visits.
import { seededRandom } from '../../src/demo/synthetic-data.ts';

type Rows = Record<string, Array<Record<string, string | number>>>;

/** 2026-01-01 00:00 UTC: purchases and visits fall in the six months after it. */
export const START = 1_767_225_600;
const DAY = 86_400;
const SIX_MONTHS_DAYS = 181;
/** Sign-ups fall in the year before START, so a cohort question has twelve months. */
const SIGNUP_START = START - 365 * DAY;

/**
 * Forty places whose sizes follow Zipf's law with exponent 1.3: at 20,000 users the first has
 * about 6,900 users and the last about 60, as in a real customer base (a capital, a few large
 * cities, a long tail of towns).
 */
export const CITIES = [
  'Berlin', 'Hamburg', 'Munich', 'Cologne', 'Frankfurt', 'Stuttgart', 'Dusseldorf', 'Leipzig',
  'Dortmund', 'Essen', 'Bremen', 'Dresden', 'Hanover', 'Nuremberg', 'Duisburg', 'Bochum',
  'Wuppertal', 'Bielefeld', 'Bonn', 'Munster', 'Mannheim', 'Karlsruhe', 'Augsburg', 'Wiesbaden',
  'Kiel', 'Aachen', 'Halle', 'Freiburg', 'Lubeck', 'Erfurt', 'Rostock', 'Kassel', 'Potsdam',
  'Mainz', 'Hagen', 'Saarbrucken', 'Hamm', 'Ulm', 'Jena', 'Trier',
]; // prettier-ignore
const CITY_WEIGHTS = CITIES.map((_, i) => 1 / (i + 1) ** 1.3);

export const GENDERS = ['female', 'male', 'diverse'];
const GENDER_WEIGHTS = [0.49, 0.49, 0.02];

export const CATEGORIES = [
  'groceries', 'clothing', 'electronics', 'books', 'home', 'toys', 'sports', 'beauty', 'travel',
  'garden',
]; // prettier-ignore
const CATEGORY_WEIGHTS = CATEGORIES.map((_, i) => 1 / (i + 1) ** 0.8);

export const PAGES = [
  'home', 'search', 'product', 'cart', 'checkout', 'account', 'orders', 'help', 'offers',
  'wishlist', 'reviews', 'blog', 'newsletter', 'stores', 'returns', 'careers', 'press', 'terms',
  'privacy', 'contact',
]; // prettier-ignore
const PAGE_WEIGHTS = PAGES.map((_, i) => 1 / (i + 1) ** 1.1);

/** Visits by hour of day (UTC): low at night, peaks at lunch and in the evening. */
const HOUR_WEIGHTS = [
  1, 0.6, 0.4, 0.3, 0.3, 0.5, 1.2, 2, 2.6, 3, 3.2, 3.5, 4.2, 3.8, 3.2, 3, 3.2, 3.8, 4.5, 5, 5.2,
  4.4, 3, 1.8,
];

export const AFTERNOON_TABLES = [
  {
    name: 'profile',
    columns: [
      { name: 'age', type: 'integer' },
      { name: 'gender', type: 'varchar(16)' },
      { name: 'city', type: 'varchar(32)' },
      { name: 'signup', type: 'bigint' },
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
  {
    name: 'visits',
    columns: [
      { name: 'page', type: 'varchar(32)' },
      { name: 'seconds', type: 'integer' },
      { name: 'ts', type: 'bigint' },
    ],
  },
] as const;

/** Picks an index with probability proportional to its weight. */
function weighted(random: () => number, weights: number[]): number {
  const total = weights.reduce((a, b) => a + b, 0);
  let r = random() * total;
  for (let i = 0; i < weights.length; i++) {
    r -= weights[i]!;
    if (r <= 0) return i;
  }
  return weights.length - 1;
}

function normal(random: () => number): number {
  const u = Math.max(random(), 1e-12);
  return Math.sqrt(-2 * Math.log(u)) * Math.cos(2 * Math.PI * random());
}

/** A count with the given mean, geometric (many light users, a few heavy ones), at most `max`. */
function geometric(random: () => number, mean: number, max: number): number {
  const p = 1 / (mean + 1);
  return Math.min(max, Math.floor(Math.log(Math.max(random(), 1e-12)) / Math.log(1 - p)));
}

function visit(random: () => number, day: number) {
  const hour = weighted(random, HOUR_WEIGHTS);
  return {
    page: PAGES[weighted(random, PAGE_WEIGHTS)]!,
    seconds: Math.max(1, Math.round(Math.exp(3.7 + 1.1 * normal(random)))),
    ts: START + day * DAY + hour * 3600 + Math.floor(random() * 3600),
  };
}

function afternoonUser(random: () => number): Rows {
  const purchases = Array.from({ length: geometric(random, 6, 40) }, () => ({
    amount: Math.round(Math.exp(3.2 + 1.1 * normal(random)) * 100) / 100,
    category: CATEGORIES[weighted(random, CATEGORY_WEIGHTS)]!,
    ts: START + Math.floor(random() * SIX_MONTHS_DAYS * DAY),
  }));
  const visits = Array.from({ length: geometric(random, 15, 80) }, () =>
    visit(random, Math.floor(random() * SIX_MONTHS_DAYS)),
  );
  return {
    profile: [
      {
        age: Math.min(90, Math.max(16, Math.round(38 + 14 * normal(random)))),
        gender: GENDERS[weighted(random, GENDER_WEIGHTS)]!,
        city: CITIES[weighted(random, CITY_WEIGHTS)]!,
        signup: SIGNUP_START + Math.floor(random() * 365 * DAY),
      },
    ],
    purchases,
    visits,
  };
}

export const userId = (i: number) => `user-${String(i).padStart(6, '0')}`;

/** Every user's rows in /bulk_insert batches, the same for a given seed. */
export function* afternoonBatches(
  users: number,
  seed = 2015,
  batchSize = 2000,
): Generator<Record<string, Rows>> {
  const random = seededRandom(seed);
  for (let start = 0; start < users; start += batchSize) {
    const batch: Record<string, Rows> = {};
    for (let i = start; i < Math.min(users, start + batchSize); i++) {
      batch[userId(i)] = afternoonUser(random);
    }
    yield batch;
  }
}

/**
 * The visits that arrive between two runs of the periodic task: a tenth of the users come back
 * on `day` (after the six months) with one to three visits.
 */
export function newVisits(users: number, day: number): Record<string, Rows> {
  const random = seededRandom(7000 + day);
  const batch: Record<string, Rows> = {};
  for (let i = 0; i < users; i++) {
    if (random() >= 0.1) continue;
    const count = 1 + Math.floor(random() * 3);
    batch[userId(i)] = { visits: Array.from({ length: count }, () => visit(random, day)) };
  }
  return batch;
}

/** The breakdown's 4,500 (city, age) pairs at full size: 50 cities x ages 18..107. */
export const BREAKDOWN_AGES = 90;
export const BREAKDOWN_ROWS_PER_USER = 10;
export const BREAKDOWN_TABLE = {
  name: 'events',
  columns: [
    { name: 'city', type: 'varchar(32)' },
    { name: 'age', type: 'integer' },
  ],
} as const;

/**
 * Ten rows per user, each a (city, age) pair drawn uniformly, a tenth of them repeating the row
 * before: about 9 distinct buckets per user, every bucket of similar size (users x 9 / buckets).
 */
export function* breakdownBatches(
  users: number,
  cities: number,
  batchSize = 5000,
): Generator<Record<string, Rows>> {
  const random = seededRandom(4500);
  for (let start = 0; start < users; start += batchSize) {
    const batch: Record<string, Rows> = {};
    for (let i = start; i < Math.min(users, start + batchSize); i++) {
      const events: Array<{ city: string; age: number }> = [];
      for (let r = 0; r < BREAKDOWN_ROWS_PER_USER; r++) {
        const previous = events[r - 1];
        events.push(
          previous && random() < 0.1
            ? { ...previous }
            : {
                city: `City ${String(Math.floor(random() * cities) + 1).padStart(2, '0')}`,
                age: 18 + Math.floor(random() * BREAKDOWN_AGES),
              },
        );
      }
      batch[userId(i)] = { events };
    }
    yield batch;
  }
}
