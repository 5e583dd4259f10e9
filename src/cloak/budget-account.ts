// A run's view of the participation budget's users: their stored states, read and written a page at a time, and the charge rule.
import type { UserKey } from '../anonymizer/index.ts';
import {
  compareHashes,
  hashPrefix,
  locate,
  MAX_PAGE_BITS,
  PAGE_HASH_BYTES,
  pageOf,
  partitionOf,
  recordsIn,
  rewritePageAt,
  stateAt,
} from './budget-pages.ts';
import type { PageRow } from './budget-rows.ts';

/**
 * Users visited between reads and writes of their pages: a partition's users at most (they
 * arrive partition by partition, user-log.ts), so a step holds few pages and few users.
 */
const USERS_PER_STEP = 16_384;

/** Bytes of a user key or bucket hash stored: 128 bits, collisions are out of reach. */
export const HASH_BYTES = PAGE_HASH_BYTES;

/** What the budget stored for one (organisation, user). */
export interface UserState {
  spent: number;
  /** Where the user ran out: (run, index of the bucket it could not afford). */
  exhausted: [seq: number, idx: number] | undefined;
  dirty: boolean;
}

/** Where a bucket was first settled, and the count its price and noise were set at. */
export interface FirstSettled {
  seq: number;
  idx: number;
  /** Null for buckets settled before noise counts were stored: their noise was their count's. */
  basis: number | null;
}

/** Where a run stands: its number overall and in the organisation's current budget period. */
export interface RunNumbers {
  seq: number;
  /** The budget period (0 when the budget never renews). */
  period: number;
  /**
   * The settled run's number in that period, from 1. Not a notice's k: notices take their own
   * numbers when a run starts (BudgetStore.takeNotice), settled or not.
   */
  periodRun: number;
  /** The seq of the period's first run: buckets settled before it are fresh again. */
  periodFirstSeq: number;
}

/**
 * The budget's storage, inside the settlement's transaction (BudgetStore.settle). Asynchronous, so
 * that it can be PostgreSQL's; reads and writes go a chunk of users or buckets at a time.
 */
export interface BudgetLedger {
  nextSeq(orgId: string): Promise<RunNumbers>;
  /** Where these buckets were first settled, by the hash's latin1 text; unknown ones are absent. */
  known(orgId: string, hashes: readonly Buffer[]): Promise<Map<string, FirstSettled>>;
  remember(orgId: string, buckets: ReadonlyArray<readonly [Buffer, FirstSettled]>): Promise<void>;
  hasUsers(orgId: string): Promise<boolean>;
  /** Runs `fn` so that what it wrote is undone if it throws (a savepoint). */
  tentatively<T>(fn: () => Promise<T>): Promise<T>;
  /** Users per page, on average, past which the organisation's pages split (SPLIT_RECORDS). */
  readonly splitRecords: number;
  /** The organisation's page size (budget-pages.ts): pageOf(hash, bits) names a user's page. */
  pageBits(orgId: string): Promise<number>;
  /** The stored pages among these (a page nobody was written to yet is absent). */
  loadPages(orgId: string, pages: readonly number[]): Promise<PageRow[]>;
  savePages(orgId: string, pages: readonly PageRow[]): Promise<void>;
  /** Splits every page of the organisation in two: its page size goes from `bits` to bits + 1. */
  splitPages(orgId: string, bits: number): Promise<void>;
  /** Counts `users` more of the organisation's users as run out in `period`. */
  addExhausted(orgId: string, period: number, users: number): Promise<void>;
  /** How many of the organisation's users have run out in this period. */
  exhaustedCount(orgId: string, period: number): Promise<number>;
}

/** A bucket above the floor, in settlement order (by hash). */
export interface Charged {
  /** Index in the collected buckets; -1 for the suppression bucket. */
  bucket: number;
  hash: Buffer;
  requested: number;
  /** The count the price is set at: the requested count, then what the last pass kept. */
  basis: number;
  cost: number;
  first: FirstSettled | undefined;
}

/** Users' states for one run: read in chunks, charged, and saved when the pass commits. */
export class Account {
  constructor(
    readonly ledger: BudgetLedger,
    readonly orgId: string,
    readonly rho: number,
    readonly run: RunNumbers,
  ) {}

  get seq(): number {
    return this.run.seq;
  }

  /**
   * Calls `visit` for every user, with a lazy accessor to the user's state (stored, or new).
   * States are read a step of users at a time, page by page; with `commit` the changed ones are
   * written back, otherwise the pass only looks and its changes are dropped. Users that arrive
   * partition by partition (user-log.ts) read and write each page once; any order is correct.
   */
  async eachUser(
    users: Iterable<UserKey | readonly [UserKey, Int32Array]>,
    visit: (key: UserKey, ids: Int32Array | undefined, stateOf: () => UserState) => void,
    commit: boolean,
  ): Promise<void> {
    const { ledger, orgId } = this;
    const { period } = this.run;
    const anyStored = await ledger.hasUsers(orgId);
    const bits = await ledger.pageBits(orgId);
    // The step's users, and their ids when given: two arrays, no entry per user.
    let keys: UserKey[] = [];
    let idLists: Array<Int32Array | undefined> = [];
    let partition = -1;
    let exhausted = 0;
    let pagesWritten = 0;
    let recordsWritten = 0;
    const flush = async () => {
      const n = keys.length;
      const pages = new Int32Array(n);
      for (let i = 0; i < n; i++) pages[i] = pageOf(keys[i]!, bits);
      const stored = new Map<number, Buffer>();
      if (anyStored) {
        const wanted = [...new Set(pages)];
        for (const row of await ledger.loadPages(orgId, wanted)) stored.set(row.page, row.states);
      }
      // The step's users in hash order, which is page order too (a page is a range of hashes):
      // each page's users are a run of it, found in the page by one merge and written back by
      // another, where a binary search per user and a sort of the changed users were.
      const order = byHash(keys);
      const where = new Int32Array(n);
      eachPageRun(order, pages, (page, from, to) =>
        locate(stored.get(page), keys, order, from, to, where),
      );
      // The user being visited and their state, read once on demand: one accessor for all.
      const at = { user: 0, state: undefined as UserState | undefined, wasOut: false };
      const stateOf = (): UserState => {
        if (at.state === undefined) {
          const found = stored.get(pages[at.user]!);
          at.state = (found && stateAt(found, where[at.user]!, period)) || newState();
          at.wasOut = at.state.exhausted !== undefined;
        }
        return at.state;
      };
      const changed: Array<UserState | undefined> = new Array<UserState | undefined>(n);
      let changes = 0;
      for (let i = 0; i < n; i++) {
        at.user = i;
        at.state = undefined;
        at.wasOut = false;
        visit(keys[i]!, idLists[i], stateOf);
        const state = at.state as UserState | undefined;
        if (!state?.dirty) continue;
        if (!at.wasOut && state.exhausted !== undefined) exhausted++;
        changed[i] = state;
        changes++;
      }
      if (commit && changes > 0) {
        const rows: PageRow[] = [];
        eachPageRun(order, pages, (page, from, to) => {
          const written: Array<[UserKey, UserState, number]> = [];
          for (let k = from; k < to; k++) {
            const i = order[k]!;
            const state = changed[i];
            if (state !== undefined) written.push([keys[i]!, state, where[i]!]);
          }
          if (written.length === 0) return;
          const states = rewritePageAt(stored.get(page), written, period);
          rows.push({ page, states });
          pagesWritten++;
          recordsWritten += recordsIn(states);
        });
        await ledger.savePages(orgId, rows);
      }
      keys = [];
      idLists = [];
    };
    for (const user of users) {
      const key = user instanceof Uint8Array ? user : user[0];
      const part = partitionOf(key);
      if (keys.length > 0 && (part !== partition || keys.length >= USERS_PER_STEP)) await flush();
      partition = part;
      keys.push(key);
      idLists.push(user instanceof Uint8Array ? undefined : user[1]);
    }
    if (keys.length > 0) await flush();
    if (!commit) return;
    if (exhausted > 0) await ledger.addExhausted(orgId, period, exhausted);
    // Pages are hash-uniform: the ones written say how full the organisation's pages are.
    if (recordsWritten > ledger.splitRecords * pagesWritten && bits < MAX_PAGE_BITS) {
      await ledger.splitPages(orgId, bits);
    }
  }

  /**
   * Whether a user in bucket `c` (at position idx of this run) is kept, charging them if it is
   * fresh. A known bucket keeps whoever had not run out before its first settlement, for free.
   */
  charge(state: UserState, c: Charged, idx: number): boolean {
    if (c.first) return !exhaustedBefore(state, c.first.seq, c.first.idx);
    if (state.exhausted !== undefined) return false;
    state.dirty = true;
    // A relative slack of 1e-9 for floating point: four buckets of 0.005 fit a budget of 0.02.
    if (state.spent + c.cost > this.rho * (1 + 1e-9)) {
      state.exhausted = [this.seq, idx];
      return false;
    }
    state.spent += c.cost;
    return true;
  }
}

/** Calls `fn` for each page's run of users in `order` (hash order, so page order). */
function eachPageRun(
  order: Int32Array,
  pages: Int32Array,
  fn: (page: number, from: number, to: number) => void,
): void {
  for (let from = 0; from < order.length;) {
    const page = pages[order[from]!]!;
    let to = from + 1;
    while (to < order.length && pages[order[to]!] === page) to++;
    fn(page, from, to);
    from = to;
  }
}

/** Keys one step sorts at most, with room to spare: an index fits below the hash prefix. */
const INDEX_SPACE = 2 ** 21;

/**
 * Indexes of `keys` in hash order. A comparator over 16-byte hashes was a twentieth of a budgeted
 * run's time over 100,000 users; so each key's first 32 bits and its index are packed into one
 * number (53 bits, exact in a double) and sorted natively, and only keys whose first 32 bits are
 * equal (a few in a step of 16,384) are then ordered by their whole hash.
 */
export function byHash(keys: readonly UserKey[]): Int32Array {
  const n = keys.length;
  if (n >= INDEX_SPACE) {
    return Int32Array.from(keys, (_, i) => i).sort((a, b) => compareHashes(keys[a]!, keys[b]!));
  }
  const packed = new Float64Array(n);
  for (let i = 0; i < n; i++) packed[i] = hashPrefix(keys[i]!) * INDEX_SPACE + i;
  packed.sort();
  const order = new Int32Array(n);
  for (let i = 0; i < n; i++) order[i] = packed[i]! % INDEX_SPACE;
  for (let from = 0; from < n;) {
    const prefix = Math.floor(packed[from]! / INDEX_SPACE);
    let to = from + 1;
    while (to < n && Math.floor(packed[to]! / INDEX_SPACE) === prefix) to++;
    if (to - from > 1) {
      order.subarray(from, to).sort((a, b) => compareHashes(keys[a]!, keys[b]!));
    }
    from = to;
  }
  return order;
}

function newState(): UserState {
  return { spent: 0, exhausted: undefined, dirty: false };
}

/** Whether the user had run out at or before position (seq, idx), so was left out there. */
function exhaustedBefore(state: UserState, seq: number, idx: number): boolean {
  const e = state.exhausted;
  return e !== undefined && (e[0] < seq || (e[0] === seq && e[1] <= idx));
}

export function userHash(user: UserKey): Buffer {
  return Buffer.from(user.buffer, user.byteOffset, HASH_BYTES);
}

export function hashText(user: UserKey): string {
  return userHash(user).toString('latin1');
}
