// Which users belong to a shard of a run, and the narrow source a worker reads them from.
import { userKey, type UserKey } from '../../anonymizer/index.ts';
import type { PrefetchSpec } from '../../shared/index.ts';
import type { SqliteDataCore, UserData } from '../data/index.ts';

/**
 * A user's shard comes from their user key (an HMAC of the user id under the installation
 * secret), never from the id itself: membership is stable from run to run and says nothing about
 * the user that the key does not already hide, and shards get users evenly whatever the ids are.
 */
export function shardOf(key: UserKey, shards: number): number {
  const view = new DataView(key.buffer, key.byteOffset, key.byteLength);
  return view.getUint32(0) % shards;
}

/** One shard of a run: `index` in [0, `of`). */
export interface Shard {
  index: number;
  of: number;
}

/**
 * What a worker needs of the cloak's data, and no more: one shard's users with their selected
 * rows, and the organisation's lookup tables. Kept this narrow so that a PostgreSQL data store
 * can implement it as easily as the SQLite one below.
 */
export interface ShardUserSource {
  /** The shard's users, each with their rows as `prefetch` selects them at `now`. */
  users(orgId: string, prefetch: PrefetchSpec[], now: number, shard: Shard): Iterable<UserData>;
  lookup(orgId: string, table: string, key: string): string | undefined;
}

/**
 * Over the SQLite data store of the data directory the worker shares with the coordinator (same
 * host), read through its synchronous core (a read-only connection: the worker migrates nothing).
 * Every user with a row in one of the tables is listed, keyed and kept when in the shard; the
 * rows are then read for those users only, in one snapshot.
 */
export class DataStoreShardUsers implements ShardUserSource {
  constructor(
    private readonly data: SqliteDataCore,
    private readonly secret: Uint8Array,
  ) {}

  *users(orgId: string, prefetch: PrefetchSpec[], now: number, shard: Shard): Iterable<UserData> {
    const tables = [...new Set(prefetch.map((p) => p.table))];
    // Arrivals since the first sequence number are every user with a row in the tables.
    const { userIds } = this.data.arrivedSince(orgId, tables, 0);
    const mine = userIds.filter(
      (id) => shardOf(userKey(this.secret, id), shard.of) === shard.index,
    );
    if (mine.length === 0) return;
    yield* this.data.streamUsers(orgId, prefetch, now, mine);
  }

  lookup(orgId: string, table: string, key: string): string | undefined {
    return this.data.lookup(orgId, table, key);
  }
}
