// The participation budget's users, stored a page of many users per row: the page layout, lookups and rewrites.
import type { UserState } from './budget-account.ts';

/*
 * Why pages. A budgeted run reads and writes the state of every user it saw. One row per user
 * cost SQLite about 2 microseconds to read and as much to write, whatever the row's shape (a
 * blob, hex or integer key; single or multi-row statements): 0.4 s of a 1.2 s sql task over
 * 100,000 users. So users are stored many to a row. A user's page is the top `bits` bits of the
 * user hash; the organisation's pages start at 2^8 and double (each page splitting in two) when
 * they hold more than SPLIT_RECORDS users on average, so a page stays small enough for a run over
 * a few users to rewrite cheaply, and large enough that a run over many pays per page, not per
 * user. Runs visit their users a partition (the top PARTITION_BITS bits) at a time, so that the
 * pages one step holds in memory are a 64th of the organisation's at most.
 *
 * A page is a sorted array of fixed records: the 16-byte user hash, then spent, exhausted run,
 * exhausted index and period as float64 (NaN: not exhausted). Holds only keyed hashes and
 * numbers, as the rows did.
 */

export const PAGE_HASH_BYTES = 16;
export const RECORD_BYTES = PAGE_HASH_BYTES + 4 * 8;
/** An organisation's first page size: 256 pages. */
export const MIN_PAGE_BITS = 8;
/** Page ids come from the hash's first three bytes; at 2^20 pages of 256, 268 million users. */
export const MAX_PAGE_BITS = 20;
/** Page ids lie below this: the first three bytes of a hash. */
export const PAGE_ID_SPACE = 2 ** 24;
/** Runs step through users by the top 6 bits of their hash: at most 1/64 of the pages at once. */
export const PARTITION_BITS = 6;
/**
 * Past this many users per page on average, the organisation's pages split in two. A run over a
 * few users rewrites a page (up to about 24 KiB, 12 on average) per user; a run over many pays a
 * statement (some microseconds) per 128 to 256 users, against about 2 per user when each user had
 * a row of their own.
 */
export const SPLIT_RECORDS = 256;

/**
 * The page of a user hash (or key) at `bits`: the first 24 bits of the hash with all but the top
 * `bits` cleared. So a page's id is where its range of hashes starts, whatever the page size, and
 * a page split in two keeps its id for the lower half.
 */
export function pageOf(hash: Uint8Array, bits: number): number {
  const shift = 24 - bits;
  return (((hash[0]! << 16) | (hash[1]! << 8) | hash[2]!) >>> shift) << shift;
}

/** Where the upper half of a page at `bits` starts, once split: its id at bits + 1. */
export function upperHalf(page: number, bits: number): number {
  return page + 2 ** (23 - bits);
}

/** The partition of a user hash (or key): the pages of one partition are consecutive. */
export function partitionOf(hash: Uint8Array): number {
  return hash[0]! >>> (8 - PARTITION_BITS);
}

/** Users stored in a page. */
export function recordsIn(page: Uint8Array): number {
  return page.length / RECORD_BYTES;
}

/**
 * The state of `hash` in `page` in `period`, or undefined when the page holds none for that
 * period (a state of another period is spent: the user starts afresh).
 */
export function findState(page: Buffer, hash: Uint8Array, period: number): UserState | undefined {
  return stateAt(page, indexOf(page, hash), period);
}

/** The state of the page's record `at` (as `locate` gives it; negative: none) in `period`. */
export function stateAt(page: Buffer, at: number, period: number): UserState | undefined {
  if (at < 0) return undefined;
  const offset = at * RECORD_BYTES + PAGE_HASH_BYTES;
  if (page.readDoubleLE(offset + 24) !== period) return undefined;
  const seq = page.readDoubleLE(offset + 8);
  return {
    spent: page.readDoubleLE(offset),
    exhausted: Number.isNaN(seq) ? undefined : [seq, page.readDoubleLE(offset + 16)],
    dirty: false,
  };
}

/**
 * Where each of some hashes is in `page`, as a binary search would say (the record's index, or
 * -(insertion point) - 1), in one pass: the hashes are `hashes[order[from]]` to
 * `hashes[order[to - 1]]`, in hash order, each once, all of this page. Written to `where` at
 * each hash's own index. A run visits most of a page's users, so a merge compares each hash with
 * a record or two, where a binary search compared it with eight or more.
 */
export function locate(
  page: Buffer | undefined,
  hashes: readonly Uint8Array[],
  order: Int32Array,
  from: number,
  to: number,
  where: Int32Array,
): void {
  const total = page === undefined ? 0 : recordsIn(page);
  let at = 0;
  for (let k = from; k < to; k++) {
    const h = order[k]!;
    const hash = hashes[h]!;
    let c = 1;
    while (at < total && (c = compareRecord(page!, at, hash)) < 0) at++;
    where[h] = at < total && c === 0 ? at : -at - 1;
  }
}

/**
 * The page with `changes` written in `period`, each at the place `locate` found for its hash (the
 * changes in hash order): a record of the same hash is replaced, otherwise the
 * change goes in before the record it was found before. Records of earlier periods are dropped on
 * the way, as nothing reads them; later ones (a clock set back) are kept.
 */
export function rewritePageAt(
  page: Buffer | undefined,
  changes: ReadonlyArray<readonly [hash: Uint8Array, state: UserState, where: number]>,
  period: number,
): Buffer {
  const old = page ?? EMPTY;
  const total = recordsIn(old);
  const out = Buffer.allocUnsafe((total + changes.length) * RECORD_BYTES);
  let written = 0;
  let i = 0;
  const keepOldUpTo = (end: number) => {
    for (; i < end; i++) {
      const offset = i * RECORD_BYTES;
      // Records of earlier periods are dropped (written as before the merge: NaN is kept).
      if (!(old.readDoubleLE(offset + PAGE_HASH_BYTES + 24) < period)) {
        old.copy(out, written * RECORD_BYTES, offset, offset + RECORD_BYTES);
        written++;
      }
    }
  };
  for (const [hash, state, where] of changes) {
    keepOldUpTo(where >= 0 ? where : -where - 1);
    // Replaces the record found, unless an earlier change already did (never skips another's).
    if (where >= 0 && i === where) i++;
    writeRecord(out, written++, hash, state, period);
  }
  keepOldUpTo(total);
  return out.subarray(0, written * RECORD_BYTES);
}

/** A page of records already in hash order, each in its own period (moving rows into pages). */
export function pageOfRecords(
  records: ReadonlyArray<readonly [hash: Uint8Array, state: UserState, period: number]>,
): Buffer {
  const out = Buffer.allocUnsafe(records.length * RECORD_BYTES);
  records.forEach(([hash, state, period], at) => writeRecord(out, at, hash, state, period));
  return out;
}

function writeRecord(
  out: Buffer,
  at: number,
  hash: Uint8Array,
  state: UserState,
  period: number,
): void {
  const offset = at * RECORD_BYTES;
  // Byte by byte: a subarray per record to copy from was a view allocated per user written.
  for (let b = 0; b < PAGE_HASH_BYTES; b++) out[offset + b] = hash[b]!;
  out.writeDoubleLE(state.spent, offset + PAGE_HASH_BYTES);
  out.writeDoubleLE(state.exhausted?.[0] ?? NaN, offset + PAGE_HASH_BYTES + 8);
  out.writeDoubleLE(state.exhausted?.[1] ?? NaN, offset + PAGE_HASH_BYTES + 16);
  out.writeDoubleLE(period, offset + PAGE_HASH_BYTES + 24);
}

/** A page at `bits` as its two halves at bits + 1: its records below and from upperHalf. */
export function splitPage(page: Buffer, id: number, bits: number): [Buffer, Buffer] {
  const high = upperHalf(id, bits);
  let at = 0;
  while (at < recordsIn(page) && pageOf(page.subarray(at * RECORD_BYTES), bits + 1) < high) at++;
  return [page.subarray(0, at * RECORD_BYTES), page.subarray(at * RECORD_BYTES)];
}

/** Binary search over the page's hashes: the record's index, or -(insertion point) - 1. */
function indexOf(page: Buffer, hash: Uint8Array): number {
  let low = 0;
  let high = recordsIn(page) - 1;
  while (low <= high) {
    const mid = (low + high) >>> 1;
    const c = compareRecord(page, mid, hash);
    if (c === 0) return mid;
    if (c < 0) low = mid + 1;
    else high = mid - 1;
  }
  return -low - 1;
}

/** Orders the hash of the page's record `at` against `hash`, as Buffer.compare would. */
function compareRecord(page: Buffer, at: number, hash: Uint8Array): number {
  const offset = at * RECORD_BYTES;
  for (let b = 0; b < PAGE_HASH_BYTES; b++) {
    const c = page[offset + b]! - hash[b]!;
    if (c !== 0) return c;
  }
  return 0;
}

/** Orders two user hashes (or keys) by their first 16 bytes, as Buffer.compare would. */
export function compareHashes(a: Uint8Array, b: Uint8Array): number {
  for (let at = 0; at < PAGE_HASH_BYTES; at += 4) {
    const c = compare(word(a, at), word(b, at));
    if (c !== 0) return c;
  }
  return 0;
}

/** The first 32 bits of a hash, as an unsigned number: the order of hashes that differ there. */
export function hashPrefix(hash: Uint8Array): number {
  return word(hash, 0);
}

function word(bytes: Uint8Array, at: number): number {
  return (
    ((bytes[at]! << 24) | (bytes[at + 1]! << 16) | (bytes[at + 2]! << 8) | bytes[at + 3]!) >>> 0
  );
}

function compare(a: number, b: number): number {
  return a < b ? -1 : a > b ? 1 : 0;
}

const EMPTY = Buffer.alloc(0);
