// The suppression bucket "*" under the budget: its members are settled, charged and left out like any fresh bucket's.
import {
  isPublished,
  SUPPRESSION_IDENTITY,
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
import { UserLog } from './user-log.ts';

/**
 * The suppression bucket, settled as the last bucket of the run (position `idx`): its members are
 * the users none of whose kept buckets is published, and those who cannot pay are left out.
 */
export async function settleSuppression(
  account: Account,
  input: SettleInput,
  aggregator: BucketAggregator,
  secret: Uint8Array,
  idx: number,
  leftOut: Set<string>,
): Promise<{ bucket: AggregatedBucket | undefined; settled: SettledBucket } | undefined> {
  const { settings, collected, question } = input;
  // The same members as the anonymizer's suppressedUsers, read straight from the log once and
  // kept for the passes below in a user log like the run's own (bounded memory, any number).
  const found = collected.memberships.usersWithNone((label, value) => {
    const bucket = aggregator.property(label, value);
    return bucket !== undefined && isPublished(bucket, secret, settings, question);
  });
  const members = new UserLog();
  try {
    const asked = new Uint32Array(WORDS);
    for (const key of found) {
      xorKey(asked, key);
      members.add(key, NO_IDS);
    }
    return await settleMembers(account, input, members, asked, idx, leftOut);
  } finally {
    members.close();
  }
}

const NO_IDS: readonly number[] = [];

/** The suppression bucket's settlement once its members (and their XOR, `asked`) are known. */
async function settleMembers(
  account: Account,
  { orgId, settings, question }: SettleInput,
  members: UserLog,
  asked: Uint32Array,
  idx: number,
  leftOut: Set<string>,
): Promise<{ bucket: AggregatedBucket | undefined; settled: SettledBucket } | undefined> {
  const requested = members.length;
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
      members,
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
