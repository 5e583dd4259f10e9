// Settles one run against the participation budget: who enters which bucket, what each pays, and the noise that pays for.
import { createHash } from 'node:crypto';
import {
  BucketAggregator,
  countNoiseSd,
  isPublished,
  SUPPRESSION_IDENTITY,
  USER_KEY_BYTES,
  type AggregatedBucket,
  type AnonymizerSettings,
  type BucketIdentity,
} from '../anonymizer/index.ts';
import type { MembershipLog } from './membership-log.ts';
import {
  Account,
  HASH_BYTES,
  hashText,
  type BudgetLedger,
  type Charged,
  type FirstSettled,
  type RunNumbers,
} from './budget-account.ts';
import { xorKey, type Collected } from './participation-run.ts';

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

/** Passes that set prices (the first of them an optimistic charging pass); honest runs need one. */
export const MAX_PRICE_PASSES = 4;

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
  memberships: MembershipLog;
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
}

/** Charges the budget for one run (inside one transaction) and returns what may be published. */
export function settleRun(ledger: BudgetLedger, input: SettleInput): Settlement {
  const { orgId, settings, collected } = input;
  const { buckets, memberships } = collected;
  const price = (count: number) => priceOf(count, settings);
  // Free buckets (at or below the floor: never published, never a noise draw) come first in
  // the order they were seen, then charged ones by hash; each user takes theirs in that order.
  const free: number[] = [];
  const charged: Charged[] = [];
  buckets.forEach((bucket, b) => {
    if (bucket.count <= settings.absoluteFloor) return void free.push(b);
    const hash = bucketHash(bucket.identity, bucket.words);
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

  const run = ledger.nextSeq(orgId);
  const { seq } = run;
  for (const c of charged) {
    c.first = inPeriod(ledger.known(orgId, c.hash), run);
    c.cost = price(c.basis);
  }
  const account = new Account(ledger, orgId, input.rho, run);
  // Who the charging pass left out, by hashText: each is counted once, whatever they missed.
  let leftOut = new Set<string>();

  /** One pass over every user; with `into`, it charges and builds the aggregate. */
  const pass = (into?: { aggregator: BucketAggregator }): Int32Array => {
    const kept = new Int32Array(buckets.length);
    account.eachUser(
      collected.users,
      (key, ids, stateOf) => {
        const order = Array.from(ids!).sort((a, b) => position[a]! - position[b]!);
        const properties: Array<readonly [string, string]> = [];
        for (const b of order) {
          const idx = chargedAt[b]!;
          if (idx >= 0 && !account.charge(stateOf(), charged[idx]!, idx)) {
            if (into) leftOut.add(hashText(key));
            continue;
          }
          kept[b]!++;
          if (!into) continue;
          const { identity } = buckets[b]!;
          if (identity.kind === 'property') {
            into.aggregator.addProperty(identity.label, identity.value, key);
            properties.push([identity.label, identity.value]);
          } else {
            into.aggregator.addException(identity.message, key);
          }
        }
        if (into && properties.length > 0) memberships.add(key, properties);
      },
      into !== undefined,
    );
    return kept;
  };

  const charging = () => {
    leftOut = new Set();
    const aggregator = new BucketAggregator();
    return { aggregator, kept: pass({ aggregator }) };
  };
  // Optimistic: charge at the prices of the users who asked. When no fresh bucket lost enough
  // users to change its noise, that is the settlement, in one pass (the common case). Otherwise
  // it is rolled back and the prices are found by passes that write nothing.
  let done: ReturnType<typeof charging>;
  try {
    done = ledger.tentatively(() => {
      const attempt = charging();
      if (reprice(charged, (c) => attempt.kept[c.bucket]!, settings, false)) {
        throw new PricesMoved(attempt.kept);
      }
      return attempt;
    });
  } catch (error) {
    if (!(error instanceof PricesMoved)) throw error;
    memberships.clear();
    let kept = error.kept;
    for (
      let p = 1;
      p < MAX_PRICE_PASSES && reprice(charged, (c) => kept[c.bucket]!, settings);
      p++
    ) {
      kept = pass();
    }
    reprice(charged, (c) => kept[c.bucket]!, settings);
    done = charging();
  }
  const { aggregator, kept } = done;

  const settled = charged.map((c, idx): SettledBucket => {
    const { identity } = buckets[c.bucket]!;
    const noiseCount = c.first ? (c.first.basis ?? kept[c.bucket]!) : c.basis;
    if (!c.first) ledger.remember(orgId, c.hash, { seq, idx, basis: c.basis });
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
  const settlement: Settlement = { aggregator, memberships, settled, leftOut: 0, run };
  if (input.secret !== undefined) {
    const suppression = settleSuppression(
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

/**
 * The suppression bucket, settled as the last bucket of the run (position `idx`): its members are
 * the users none of whose kept buckets is published, and those who cannot pay are left out.
 */
function settleSuppression(
  account: Account,
  { orgId, settings, collected }: SettleInput,
  aggregator: BucketAggregator,
  secret: Uint8Array,
  idx: number,
  leftOut: Set<string>,
): { bucket: AggregatedBucket | undefined; settled: SettledBucket } | undefined {
  // The same members as the anonymizer's suppressedUsers, read straight from the log.
  const members = () =>
    collected.memberships.usersWithNone((label, value) => {
      const bucket = aggregator.property(label, value);
      return bucket !== undefined && isPublished(bucket, secret, settings);
    });
  let requested = 0;
  const asked = new Uint32Array(WORDS);
  for (const key of members()) {
    requested++;
    xorKey(asked, key);
  }
  if (requested === 0) return undefined;
  const hash = bucketHash({ kind: 'suppression' }, asked);
  const first = inPeriod(account.ledger.known(orgId, hash), account.run);
  const c: Charged = {
    bucket: -1,
    hash,
    requested,
    basis: requested,
    cost: priceOf(requested, settings),
    first,
  };
  const pass = (commit: boolean) => {
    const kept = { count: 0, words: new Uint32Array(WORDS) };
    account.eachUser(
      members(),
      (key, _ids, stateOf) => {
        if (!account.charge(stateOf(), c, idx)) {
          if (commit) leftOut.add(hashText(key));
          return;
        }
        kept.count++;
        xorKey(kept.words, key);
      },
      commit,
    );
    return kept;
  };
  for (let p = 0; p < MAX_PRICE_PASSES && !first; p++) {
    const { count } = pass(false);
    if (!reprice([c], () => count, settings)) break;
  }
  const kept = pass(true);
  const noiseCount = first ? (first.basis ?? kept.count) : c.basis;
  if (!first) account.ledger.remember(orgId, hash, { seq: account.seq, idx, basis: c.basis });
  const settled: SettledBucket = {
    identity: SUPPRESSION_IDENTITY,
    requested,
    kept: kept.count,
    cost: first ? 0 : c.cost,
    noiseCount,
    fresh: !first,
  };
  if (kept.count === 0) return { bucket: undefined, settled };
  const fingerprint = new Uint8Array(kept.words.buffer.slice(0));
  const bucket: AggregatedBucket = {
    identity: SUPPRESSION_IDENTITY,
    count: kept.count,
    fingerprint,
  };
  if (noiseCount > kept.count) bucket.noiseCount = noiseCount;
  return { bucket, settled };
}

/** A bucket settled in an earlier budget period is fresh again: its members' spending was reset. */
function inPeriod(first: FirstSettled | undefined, run: RunNumbers): FirstSettled | undefined {
  return first && first.seq >= run.periodFirstSeq ? first : undefined;
}

/** Thrown inside the optimistic charging pass to roll it back: some price has to move. */
class PricesMoved extends Error {
  constructor(readonly kept: Int32Array) {
    super('the prices of this run moved; its optimistic charges are rolled back');
  }
}

/**
 * Lowers each fresh bucket's basis to what the last pass kept, where that changes its noise (and
 * so its price). Returns whether any price changed (or, with `apply` false, would change): if
 * none did, another pass would keep the same.
 */
function reprice(
  charged: Charged[],
  keptOf: (c: Charged) => number,
  settings: Readonly<AnonymizerSettings>,
  apply = true,
): boolean {
  let changed = false;
  for (const c of charged) {
    if (c.first) continue;
    const kept = keptOf(c);
    if (countNoiseSd(kept, settings) < countNoiseSd(c.basis, settings)) {
      if (!apply) return true;
      c.basis = kept;
      c.cost = priceOf(kept, settings);
      changed = true;
    }
  }
  return changed;
}

/** 1 / (2 sd^2) for the noise a count gets; without noise nobody can pay. */
function priceOf(count: number, settings: Readonly<AnonymizerSettings>): number {
  const sd = countNoiseSd(count, settings);
  return sd > 0 ? 1 / (2 * sd * sd) : Infinity;
}

const WORDS = USER_KEY_BYTES / 4;

/** SHA-256 of the identity and the XOR of the members' keys (the anonymizer's fingerprint). */
function bucketHash(
  identity: BucketIdentity | { kind: 'suppression' },
  words: Uint32Array,
): Buffer {
  return createHash('sha256')
    .update(JSON.stringify(identity))
    .update(new Uint8Array(words.buffer, words.byteOffset, words.byteLength))
    .digest()
    .subarray(0, HASH_BYTES);
}
