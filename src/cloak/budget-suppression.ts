// The suppression bucket "*" under the budget: its members are settled, charged and left out like any fresh bucket's.
import {
  isPublished,
  SUPPRESSION_IDENTITY,
  USER_KEY_BYTES,
  type UserKey,
  type AggregatedBucket,
  type BucketAggregator,
} from '../anonymizer/index.ts';
import { hashText, type Account, type Charged } from './budget-account.ts';
import {
  bucketHash,
  inPeriod,
  MAX_PRICE_PASSES,
  priceOf,
  reprice,
  WORDS,
} from './budget-pricing.ts';
import type { SettledBucket, SettleInput } from './budget-settlement.ts';
import { xorKey } from './participation-run.ts';

/**
 * The suppression bucket, settled as the last bucket of the run (position `idx`): its members are
 * the users none of whose kept buckets is published, and those who cannot pay are left out.
 */
export async function settleSuppression(
  account: Account,
  { orgId, settings, collected, question }: SettleInput,
  aggregator: BucketAggregator,
  secret: Uint8Array,
  idx: number,
  leftOut: Set<string>,
): Promise<{ bucket: AggregatedBucket | undefined; settled: SettledBucket } | undefined> {
  // The same members as the anonymizer's suppressedUsers, read straight from the log.
  const readMembers = () =>
    collected.memberships.usersWithNone((label, value) => {
      const bucket = aggregator.property(label, value);
      return bucket !== undefined && isPublished(bucket, secret, settings, question);
    });
  let requested = 0;
  const asked = new Uint32Array(WORDS);
  // Usually few: kept here for the passes below, which then need not read every user again.
  const found = new KeyList(MEMBERS_KEPT);
  for (const key of readMembers()) {
    requested++;
    xorKey(asked, key);
    found.add(key);
  }
  const members = () => (found.complete ? found.keys() : readMembers());
  if (requested === 0) return undefined;
  const hash = bucketHash({ kind: 'suppression' }, asked, question);
  const known = await account.ledger.known(orgId, [hash]);
  const first = inPeriod(known.get(hash.toString('latin1')), account.run);
  const c: Charged = {
    bucket: -1,
    hash,
    requested,
    basis: requested,
    cost: priceOf(requested, settings),
    first,
  };
  const pass = async (commit: boolean) => {
    const kept = { count: 0, words: new Uint32Array(WORDS) };
    await account.eachUser(
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
    const { count } = await pass(false);
    if (!reprice([c], () => count, settings)) break;
  }
  const kept = await pass(true);
  const noiseCount = first ? (first.basis ?? kept.count) : c.basis;
  if (!first)
    await account.ledger.remember(orgId, [[hash, { seq: account.seq, idx, basis: c.basis }]]);
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

/** Members of the suppression bucket kept in memory between its passes: 8 MiB of keys at most. */
const MEMBERS_KEPT = 262_144;

/** Keys in one growing buffer, up to a limit past which it stops keeping them (`complete` false). */
class KeyList {
  #bytes = new Uint8Array(USER_KEY_BYTES * 64);
  #length = 0;
  complete = true;

  constructor(private readonly limit: number) {}

  add(key: UserKey): void {
    if (!this.complete) return;
    if (this.#length === this.limit) {
      this.complete = false;
      this.#bytes = new Uint8Array(0);
      return;
    }
    if ((this.#length + 1) * USER_KEY_BYTES > this.#bytes.length) {
      const bigger = new Uint8Array(this.#bytes.length * 2);
      bigger.set(this.#bytes);
      this.#bytes = bigger;
    }
    this.#bytes.set(key, this.#length * USER_KEY_BYTES);
    this.#length++;
  }

  *keys(): Generator<UserKey> {
    for (let i = 0; i < this.#length; i++) {
      yield this.#bytes.subarray(i * USER_KEY_BYTES, (i + 1) * USER_KEY_BYTES);
    }
  }
}
