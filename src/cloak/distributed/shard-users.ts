// Which users belong to a shard of a run, and the narrow source a worker reads them from (SQLite or PostgreSQL).
import Database from 'better-sqlite3';
import { userKey, type UserKey } from '../../anonymizer/index.ts';
import type { PrefetchSpec } from '../../shared/index.ts';
import { PostgresPartitionReader, type LookupReader, type UserData } from '../data/index.ts';
import { SqliteDataCore } from '../data/sqlite-data-core.ts';

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
 * rows, and the organisation's lookup tables. Async, so that it reads the PostgreSQL store as
 * well as the SQLite file of a data directory on the server's host.
 */
export interface ShardUserSource {
  /** The shard's users, each with their rows as `prefetch` selects them at `now`. */
  users(
    orgId: string,
    prefetch: PrefetchSpec[],
    now: number,
    shard: Shard,
  ): AsyncIterable<UserData>;
  /**
   * What the run's task code reads with lookup(), answered without waiting (the sandbox asks
   * synchronously), as CloakDataStore.lookupReader: SQLite reads the file at each call,
   * PostgreSQL reads the organisation's lookup tables once, here once per run on each worker.
   */
  lookupReader(orgId: string): Promise<LookupReader>;
  close(): Promise<void>;
}

/** Where a worker's users are: `cloak.store` when set, else the data directory's cloak.db. */
export async function openShardUsers(
  address: string,
  secret: Uint8Array,
): Promise<ShardUserSource> {
  if (/^postgres(ql)?:\/\//.test(address)) {
    return new PostgresShardUsers(await PostgresPartitionReader.open(address), secret);
  }
  // Read-only (the worker migrates nothing); WAL lets it read beside the server.
  const db = new Database(address, { readonly: true, fileMustExist: true });
  db.pragma('busy_timeout = 5000');
  return new SqliteShardUsers(db, secret);
}

/**
 * The keyed-hash test both sources apply to user ids, remembering each id's hash. A worker lists
 * every user of the tables for each shard it takes (the database cannot pick a shard: that needs
 * the secret), so without the memo each user is keyed once per shard and per run, an HMAC each
 * (about 10 us): a fifth of a one-sandbox worker's time at 8 shards. Bounded: past
 * MEMO_ENTRIES ids (about 80 bytes each) it starts afresh, and keys them again.
 */
export class ShardHashes {
  readonly #memo = new Map<string, number>();

  constructor(private readonly secret: Uint8Array) {}

  inShard(shard: Shard): (userId: string) => boolean {
    return (userId) => this.#hash(userId) % shard.of === shard.index;
  }

  #hash(userId: string): number {
    let hash = this.#memo.get(userId);
    if (hash === undefined) {
      hash = shardOf(userKey(this.secret, userId), 2 ** 32);
      if (this.#memo.size >= MEMO_ENTRIES) this.#memo.clear();
      this.#memo.set(userId, hash);
    }
    return hash;
  }
}

/** About 40 MiB of ids and hashes per worker at most. */
const MEMO_ENTRIES = 500_000;

/**
 * Over the SQLite data store of the data directory the worker shares with the coordinator (same
 * host), read through its synchronous core. Every user with a row in one of the tables is
 * listed, keyed and kept when in the shard; the rows are then read for those users only, in one
 * snapshot. Listing is in a read of its own: a user who arrives in between is in no shard's
 * list, as if they had arrived after the run.
 */
export class SqliteShardUsers implements ShardUserSource {
  private readonly data: SqliteDataCore;
  private readonly hashes: ShardHashes;

  constructor(
    private readonly db: Database.Database,
    secret: Uint8Array,
  ) {
    this.data = new SqliteDataCore(db);
    this.hashes = new ShardHashes(secret);
  }

  async *users(orgId: string, prefetch: PrefetchSpec[], now: number, shard: Shard) {
    const tables = [...new Set(prefetch.map((p) => p.table))];
    // Arrivals since the first sequence number are every user with a row in the tables.
    const { userIds } = this.data.arrivedSince(orgId, tables, 0);
    const mine = userIds.filter(this.hashes.inShard(shard));
    if (mine.length === 0) return;
    yield* this.data.streamUsers(orgId, prefetch, now, mine);
  }

  async lookupReader(orgId: string): Promise<LookupReader> {
    return (table, key) => this.data.lookup(orgId, table, key);
  }

  async close(): Promise<void> {
    this.db.close();
  }
}

/**
 * Over the PostgreSQL data store (`cloak.store`): the worker needs no file of the server's, only
 * the noise secret, and runs on any host that reaches the database. The shard is chosen in the
 * worker (the key needs the secret, which never goes to the database); the cost of that, every
 * user id listed once per shard, is set out at PostgresPartitionReader.streamUsersWhere.
 */
export class PostgresShardUsers implements ShardUserSource {
  private readonly hashes: ShardHashes;

  constructor(
    private readonly reader: PostgresPartitionReader,
    secret: Uint8Array,
  ) {
    this.hashes = new ShardHashes(secret);
  }

  users(orgId: string, prefetch: PrefetchSpec[], now: number, shard: Shard) {
    return this.reader.streamUsersWhere(orgId, prefetch, now, this.hashes.inShard(shard));
  }

  lookupReader(orgId: string): Promise<LookupReader> {
    return this.reader.lookupReader(orgId);
  }

  close(): Promise<void> {
    return this.reader.close();
  }
}
