// One run's per-user records (a user key and a few small integers), in memory up to a fixed size, then in a temporary SQLite file.
import { mkdtempSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import Database from 'better-sqlite3';
import { USER_KEY_BYTES, type UserKey } from '../anonymizer/index.ts';
import { PARTITION_BITS, partitionOf } from './budget-pages.ts';

const PARTITIONS = 2 ** PARTITION_BITS;

/**
 * Bytes of records a log keeps in memory before it moves them to disk. A run holds two logs (the
 * budget's bucket lists and the suppression bucket's property lists), so with 16 MiB each a run's
 * per-user state stays under about 32 MiB however many users it has: about 350,000 users with
 * three properties each fit in memory, more go to disk.
 */
export const USER_LOG_MEMORY_BYTES = 16 * 1024 * 1024;

/**
 * Users per row once spilled: one row per few thousand users keeps SQLite's per-row cost (about a
 * microsecond to write and one to read) off the per-user path.
 */
const USERS_PER_CHUNK = 4096;

export interface UserLogOptions {
  /** In-memory bytes before spilling; tests set it tiny to force the disk path. */
  memoryBytes?: number;
}

/**
 * Append-only, read partition by partition of the users' keys (budget-pages.ts) and in insertion
 * order within each, the same in memory and on disk, so the two paths give the same results. The
 * temporary file holds only keyed user hashes and small integers, never a row or a user id, and
 * is deleted by `close`. Reading while adding is not supported.
 */
export class UserLog {
  readonly #memoryBytes: number;
  #keys = new Uint8Array(USER_KEY_BYTES * 1024);
  #offsets = new Int32Array(1025);
  #ids = new Int32Array(4096);
  #users = 0;
  #size = 0;
  #spilled = 0;
  #disk: { dir: string; db: Database.Database; insert: Database.Statement } | undefined;

  constructor(options: UserLogOptions = {}) {
    this.#memoryBytes = options.memoryBytes ?? USER_LOG_MEMORY_BYTES;
  }

  /** Users added so far. */
  get length(): number {
    return this.#spilled + this.#users;
  }

  /** Whether records went to the temporary file (for tests). */
  get spilled(): boolean {
    return this.#disk !== undefined;
  }

  add(key: UserKey, ids: ArrayLike<number>): void {
    if ((this.#users + 1) * USER_KEY_BYTES > this.#keys.length) {
      this.#keys = grow(this.#keys, this.#keys.length * 2);
      this.#offsets = grow(this.#offsets, this.#offsets.length * 2);
    }
    if (this.#size + ids.length > this.#ids.length) {
      this.#ids = grow(this.#ids, Math.max(this.#ids.length * 2, this.#size + ids.length));
    }
    this.#keys.set(key, this.#users * USER_KEY_BYTES);
    this.#ids.set(ids, this.#size);
    this.#size += ids.length;
    this.#offsets[++this.#users] = this.#size;
    const bytes = this.#users * (USER_KEY_BYTES + 4) + this.#size * 4;
    if (this.#disk !== undefined ? this.#users >= USERS_PER_CHUNK : bytes > this.#memoryBytes) {
      this.#flush();
    }
  }

  /**
   * Every record, partition by partition (partitionOf the key, ascending), in insertion order
   * within each: the budget reads its pages a partition at a time. The key and ids are views
   * valid during the iteration.
   */
  *[Symbol.iterator](): Iterator<[key: UserKey, ids: Int32Array]> {
    const order = this.#memoryByPartition();
    const spilled = this.#disk?.db.prepare(
      'SELECT keys, offsets, ids FROM chunks WHERE part = ? ORDER BY rowid',
    );
    for (let part = 0; part < PARTITIONS; part++) {
      if (spilled !== undefined) yield* spilledRecords(spilled, part);
      for (let i = order.starts[part]!; i < order.starts[part + 1]!; i++) {
        const u = order.users[i]!;
        yield [
          this.#keys.subarray(u * USER_KEY_BYTES, (u + 1) * USER_KEY_BYTES),
          this.#ids.subarray(this.#offsets[u]!, this.#offsets[u + 1]!),
        ];
      }
    }
  }

  /** Deletes the temporary file, if any; the log is empty afterwards. */
  close(): void {
    if (this.#disk !== undefined) {
      this.#disk.db.close();
      rmSync(this.#disk.dir, { recursive: true, force: true });
      this.#disk = undefined;
    }
    this.#users = this.#size = this.#spilled = 0;
  }

  /** The in-memory users sorted by partition (a counting sort, stable), and where each starts. */
  #memoryByPartition(): { users: Int32Array; starts: Int32Array } {
    const starts = new Int32Array(PARTITIONS + 1);
    const parts = new Uint8Array(this.#users);
    for (let u = 0; u < this.#users; u++) {
      parts[u] = partitionOf(this.#keys.subarray(u * USER_KEY_BYTES));
      starts[parts[u]! + 1]!++;
    }
    for (let p = 0; p < PARTITIONS; p++) starts[p + 1]! += starts[p]!;
    const next = starts.slice(0, PARTITIONS);
    const users = new Int32Array(this.#users);
    for (let u = 0; u < this.#users; u++) users[next[parts[u]!]!++] = u;
    return { users, starts };
  }

  /**
   * Moves the in-memory records to the file: per partition, its users in insertion order, a chunk
   * of users per row (so that both orders read rows, not users).
   */
  #flush(): void {
    const disk = (this.#disk ??= openSpill());
    const { users, starts } = this.#memoryByPartition();
    disk.db.transaction(() => {
      for (let part = 0; part < PARTITIONS; part++) {
        for (let from = starts[part]!; from < starts[part + 1]!; from += USERS_PER_CHUNK) {
          const chunk = users.subarray(from, Math.min(from + USERS_PER_CHUNK, starts[part + 1]!));
          disk.insert.run(part, ...this.#packed(chunk));
        }
      }
    })();
    this.#spilled += this.#users;
    this.#users = this.#size = 0;
  }

  /** Some users' records as a row's keys, offsets and ids. */
  #packed(users: Int32Array): [Buffer, Buffer, Buffer] {
    const keys = new Uint8Array(users.length * USER_KEY_BYTES);
    const offsets = new Int32Array(users.length + 1);
    let size = 0;
    users.forEach((u, i) => {
      keys.set(
        this.#keys.subarray(u * USER_KEY_BYTES, (u + 1) * USER_KEY_BYTES),
        i * USER_KEY_BYTES,
      );
      size += this.#offsets[u + 1]! - this.#offsets[u]!;
      offsets[i + 1] = size;
    });
    const ids = new Int32Array(size);
    users.forEach((u, i) =>
      ids.set(this.#ids.subarray(this.#offsets[u]!, this.#offsets[u + 1]!), offsets[i]!),
    );
    return [bytesOf(keys), bytesOf(offsets), bytesOf(ids)];
  }
}

/** One partition's spilled records, a row (a chunk of users) at a time. */
function* spilledRecords(
  statement: Database.Statement,
  part: number,
): Generator<[UserKey, Int32Array]> {
  const rows = statement.raw().iterate(part) as Iterable<[Buffer, Buffer, Buffer]>;
  for (const [keys, offsets, ids] of rows) {
    yield* records(copyOf(keys, Uint8Array), copyOf(offsets, Int32Array), copyOf(ids, Int32Array));
  }
}

function* records(
  keys: Uint8Array,
  offsets: Int32Array,
  ids: Int32Array,
): Generator<[UserKey, Int32Array]> {
  for (let u = 0; u + 1 < offsets.length; u++) {
    yield [
      keys.subarray(u * USER_KEY_BYTES, (u + 1) * USER_KEY_BYTES),
      ids.subarray(offsets[u]!, offsets[u + 1]!),
    ];
  }
}

function openSpill() {
  const dir = mkdtempSync(path.join(os.tmpdir(), 'opencloak-run-'));
  const db = new Database(path.join(dir, 'users.db'));
  // A scratch file for one run: nothing to recover after a crash, so no journal and no syncs.
  db.pragma('journal_mode = OFF');
  db.pragma('synchronous = OFF');
  db.exec(`CREATE TABLE chunks (part INTEGER NOT NULL, keys BLOB NOT NULL, offsets BLOB NOT NULL,
             ids BLOB NOT NULL);
           CREATE INDEX chunks_by_part ON chunks (part);`);
  return {
    dir,
    db,
    insert: db.prepare('INSERT INTO chunks (part, keys, offsets, ids) VALUES (?, ?, ?, ?)'),
  };
}

function bytesOf(array: Uint8Array | Int32Array): Buffer {
  return Buffer.from(array.buffer, array.byteOffset, array.byteLength);
}

/** A fresh, aligned copy: SQLite's buffers may start at any byte, typed arrays and the aggregator want 4. */
function copyOf<T extends Uint8Array | Int32Array>(
  bytes: Buffer,
  Type: { new (length: number): T; BYTES_PER_ELEMENT: number },
): T {
  const array = new Type(bytes.length / Type.BYTES_PER_ELEMENT);
  new Uint8Array(array.buffer).set(bytes);
  return array;
}

function grow<T extends Uint8Array | Int32Array>(array: T, length: number): T {
  const bigger = new (array.constructor as new (n: number) => T)(length);
  bigger.set(array);
  return bigger;
}
