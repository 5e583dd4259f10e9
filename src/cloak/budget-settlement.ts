// Settles one run against the participation budget: who enters which bucket, what each pays, and the noise that pays for.
import {
  BucketAggregator,
  type AggregatedBucket,
  type AnonymizerSettings,
  type BucketIdentity,
} from '../anonymizer/index.ts';
import type { BucketPairs, KeptMemberships } from './kept-memberships.ts';
import {
  Account,
  hashText,
  type BudgetLedger,
  type Charged,
  type FirstSettled,
  type RunNumbers,
} from './budget-account.ts';
import {
  bucketHash,
  inPeriod,
  MAX_PRICE_PASSES,
  priceOf,
  reprice,
  WORDS,
} from './budget-pricing.ts';
import { settleSuppression } from './budget-suppression.ts';
import { wordsOf, type Collected } from './participation-run.ts';

/*
 * Price and noise. A fresh bucket costs each member 1 / (2 sd^2), sd the noise the published
 * count gets. The price must be that of the count that is published, not of the users who asked:
 * otherwise an analyst pads a bucket with users who have run out (they are left out, so the count
 * and its noise are small) while the victims pay the tiny price of a huge bucket. But who is left
 * out depends on the prices. So prices are found by passes that write nothing: the first prices
 * every bucket at the users who asked, each later one at the users the previous pass kept, until
 * no price changes. Kept sets only shrink from pass to pass (a higher price exhausts a user no
 * later), so this converges; honest runs converge at once. Should it still move after
 * MAX_PRICE_PASSES, the last prices stand and the noise is drawn for the count they were set at
 * (AggregatedBucket.noiseCount), never less: whatever a member paid, the count carries that much
 * noise. Only then does one more pass charge and build the aggregate.
 *
 * The suppression bucket "*" (users none of whose buckets is published) is a fresh count of a
 * user set the analyst can shape: every user alone under a label of its own lands in it. So it is
 * settled after the other buckets, like one more bucket at the end of the run's order, priced the
 * same way, and users who cannot pay are left out of it.
 */

/** One settled bucket, for tests and the documentation: who was asked and what it cost. */
export interface SettledBucket {
  identity: BucketIdentity;
  requested: number;
  kept: number;
  /** What each kept member paid (0 for a bucket settled before: reruns are free). */
  cost: number;
  /** The count the price and the noise were set at. */
  noiseCount: number;
  fresh: boolean;
}

/** What a run may publish: the aggregate, each user's kept properties, and what each bucket cost. */
export interface Settlement {
  aggregator: BucketAggregator;
  /** Per user, the properties the budget kept. */
  memberships: KeptMemberships;
  settled: SettledBucket[];
  /** The settled suppression bucket, when the run asked for one and someone is in it. */
  suppression?: AggregatedBucket;
  /** Distinct users left out of at least one bucket (or "*") because they had run out. */
  leftOut: number;
  /** The run's numbers, overall and in the budget period. */
  run: RunNumbers;
}

export interface SettleInput {
  orgId: string;
  rho: number;
  settings: Readonly<AnonymizerSettings>;
  collected: Collected;
  /** With the noise secret, the suppression bucket is settled too (it needs what is published). */
  secret?: Uint8Array;
  /** The task's question (task-question.ts): part of every bucket's noise, so of its hash. */
  question: Uint8Array;
}

/** Charges the budget for one run (inside one transaction) and returns what may be published. */
export async function settleRun(ledger: BudgetLedger, input: SettleInput): Promise<Settlement> {
  const { orgId, settings, collected } = input;
  const { buckets, memberships } = collected;
  const price = (count: number) => priceOf(count, settings);
  // Free buckets (at or below the floor: never published, never a noise draw) come first in
  // the order they were seen, then charged ones by hash; each user takes theirs in that order.
  const free: number[] = [];
  const charged: Charged[] = [];
  buckets.forEach((bucket, b) => {
    if (bucket.count <= settings.absoluteFloor) return void free.push(b);
    const hash = bucketHash(bucket.identity, bucket.words, input.question);
    charged.push({
      bucket: b,
      hash,
      requested: bucket.count,
      basis: bucket.count,
      cost: 0,
      first: undefined,
    });
  });
  charged.sort((a, b) => Buffer.compare(a.hash, b.hash));
  const position = new Int32Array(buckets.length);
  const chargedAt = new Int32Array(buckets.length).fill(-1);
  free.forEach((b, i) => (position[b] = i));
  charged.forEach((c, idx) => {
    position[c.bucket] = free.length + idx;
    chargedAt[c.bucket] = idx;
  });

  const run = await ledger.nextSeq(orgId);
  const { seq } = run;
  const known = await ledger.known(
    orgId,
    charged.map((c) => c.hash),
  );
  for (const c of charged) {
    c.first = inPeriod(known.get(c.hash.toString('latin1')), run);
    c.cost = price(c.basis);
  }
  const account = new Account(ledger, orgId, input.rho, run);
  // Who the charging pass left out, by hashText: each is counted once, whatever they missed.
  let leftOut = new Set<string>();

  // The memberships' table of properties: the buckets' own, by index (exceptions are none).
  const pairs: BucketPairs = buckets.map(({ identity }) =>
    identity.kind === 'property' ? ([identity.label, identity.value] as const) : undefined,
  );

  /**
   * One pass over every user; with `fingerprints` (WORDS per bucket) it charges, XORs each kept
   * member's key into their bucket's words and logs their kept properties: the aggregate is
   * built from those afterwards, per bucket, not per (user, bucket).
   */
  const pass = async (fingerprints?: Uint32Array): Promise<Int32Array> => {
    const kept = new Int32Array(buckets.length);
    let order = new Int32Array(16);
    let shown = new Int32Array(16);
    // The users are visited in the log's order: the memberships know a user by that place.
    let index = -1;
    await account.eachUser(
      collected.users,
      (key, ids, stateOf) => {
        index++;
        if (ids!.length > order.length) {
          order = new Int32Array(ids!.length * 2);
          shown = new Int32Array(ids!.length * 2);
        }
        const count = inPositionOrder(ids!, position, order);
        let properties = 0;
        let refused = false;
        let words: Uint32Array | undefined;
        for (let i = 0; i < count; i++) {
          const b = order[i]!;
          const idx = chargedAt[b]!;
          if (idx >= 0 && !account.charge(stateOf(), charged[idx]!, idx)) {
            refused = true;
            continue;
          }
          kept[b]!++;
          if (!fingerprints) continue;
          words ??= wordsOf(key);
          for (let w = 0, at = b * WORDS; w < WORDS; w++, at++) {
            fingerprints[at] = fingerprints[at]! ^ words[w]!;
          }
          if (pairs[b] !== undefined) shown[properties++] = b;
        }
        if (refused && fingerprints) {
          leftOut.add(hashText(key));
          memberships.keepOnly(index, key, shown.subarray(0, properties));
        }
      },
      fingerprints !== undefined,
    );
    return kept;
  };

  const charging = async () => {
    leftOut = new Set();
    memberships.reset(pairs);
    const fingerprints = new Uint32Array(buckets.length * WORDS);
    const kept = await pass(fingerprints);
    const aggregator = new BucketAggregator();
    buckets.forEach(({ identity }, b) => {
      if (kept[b]! > 0) {
        aggregator.addCounted(
          identity,
          kept[b]!,
          fingerprints.subarray(b * WORDS, (b + 1) * WORDS),
        );
      }
    });
    return { aggregator, kept };
  };
  // Optimistic: charge at the prices of the users who asked. When no fresh bucket lost enough
  // users to change its noise, that is the settlement, in one pass (the common case). Otherwise
  // it is rolled back and the prices are found by passes that write nothing.
  let done: Awaited<ReturnType<typeof charging>>;
  try {
    done = await ledger.tentatively(async () => {
      const attempt = await charging();
      if (reprice(charged, (c) => attempt.kept[c.bucket]!, settings, false)) {
        throw new PricesMoved(attempt.kept);
      }
      return attempt;
    });
  } catch (error) {
    if (!(error instanceof PricesMoved)) throw error;
    let kept = error.kept;
    for (
      let p = 1;
      p < MAX_PRICE_PASSES && reprice(charged, (c) => kept[c.bucket]!, settings);
      p++
    ) {
      kept = await pass();
    }
    reprice(charged, (c) => kept[c.bucket]!, settings);
    done = await charging();
  }
  const { aggregator, kept } = done;

  const fresh: Array<[Buffer, FirstSettled]> = [];
  const settled = charged.map((c, idx): SettledBucket => {
    const { identity } = buckets[c.bucket]!;
    const noiseCount = c.first ? (c.first.basis ?? kept[c.bucket]!) : c.basis;
    if (!c.first) fresh.push([c.hash, { seq, idx, basis: c.basis }]);
    if (kept[c.bucket]! > 0) aggregator.setNoiseCount(identity, noiseCount);
    const cost = c.first ? 0 : c.cost;
    return {
      identity,
      requested: c.requested,
      kept: kept[c.bucket]!,
      cost,
      noiseCount,
      fresh: !c.first,
    };
  });
  await ledger.remember(orgId, fresh);
  const settlement: Settlement = { aggregator, memberships, settled, leftOut: 0, run };
  if (input.secret !== undefined) {
    const suppression = await settleSuppression(
      account,
      input,
      aggregator,
      input.secret,
      charged.length,
      leftOut,
    );
    if (suppression?.bucket) settlement.suppression = suppression.bucket;
    if (suppression) settled.push(suppression.settled);
  }
  settlement.leftOut = leftOut.size;
  return settlement;
}

/** Buckets of one user up to which an insertion sort beats a sort call (and stays linear-ish). */
const INSERTION_SORT_MAX = 32;

/**
 * Copies a user's bucket indexes into `into` sorted by their settlement position, and returns
 * how many. Positions are distinct, so this is the one order any sort gives. Most users have a
 * few buckets, and this runs for every user in every pass: no array or closure per user then.
 */
function inPositionOrder(ids: Int32Array, position: Int32Array, into: Int32Array): number {
  if (ids.length > INSERTION_SORT_MAX) {
    const sorted = into.subarray(0, ids.length);
    sorted.set(ids);
    sorted.sort((a, b) => position[a]! - position[b]!);
    return ids.length;
  }
  for (let i = 0; i < ids.length; i++) {
    const b = ids[i]!;
    const p = position[b]!;
    let j = i;
    while (j > 0 && position[into[j - 1]!]! > p) {
      into[j] = into[j - 1]!;
      j--;
    }
    into[j] = b;
  }
  return ids.length;
}

/** Thrown inside the optimistic charging pass to roll it back: some price has to move. */
class PricesMoved extends Error {
  constructor(readonly kept: Int32Array) {
    super('the prices of this run moved; its optimistic charges are rolled back');
  }
}
