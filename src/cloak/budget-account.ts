// A run's view of the participation budget's users: their stored states, read and written a chunk at a time, and the charge rule.
import type { UserKey } from '../anonymizer/index.ts';

/** Users read or written per statement: well inside SQLite's 32,766 bound parameters. */
const USERS_PER_STATEMENT = 500;

/** Bytes of a user key or bucket hash stored: 128 bits, collisions are out of reach. */
export const HASH_BYTES = 16;

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
  /** The stored states of these users in this period (earlier periods' are spent), by hashText. */
  loadStates(
    orgId: string,
    period: number,
    users: readonly UserKey[],
  ): Promise<Map<string, UserState>>;
  saveStates(
    orgId: string,
    period: number,
    dirty: ReadonlyArray<[UserKey, UserState]>,
  ): Promise<void>;
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
   * States are read a chunk of users at a time; with `commit` the changed ones are written back,
   * otherwise the pass only looks and its changes are dropped.
   */
  async eachUser(
    users: Iterable<UserKey | readonly [UserKey, Int32Array]>,
    visit: (key: UserKey, ids: Int32Array | undefined, stateOf: () => UserState) => void,
    commit: boolean,
  ): Promise<void> {
    const anyStored = await this.ledger.hasUsers(this.orgId);
    let chunk: Array<[UserKey, Int32Array | undefined]> = [];
    const flush = async () => {
      const stored = anyStored
        ? await this.ledger.loadStates(
            this.orgId,
            this.run.period,
            chunk.map(([key]) => key),
          )
        : new Map<string, UserState>();
      const dirty: Array<[UserKey, UserState]> = [];
      for (const [key, ids] of chunk) {
        let state: UserState | undefined;
        // A user's hash text is built only when some state was stored (not on a first run).
        visit(
          key,
          ids,
          () => (state ??= (stored.size > 0 ? stored.get(hashText(key)) : undefined) ?? newState()),
        );
        if (state?.dirty) dirty.push([key, state]);
      }
      if (commit) await this.ledger.saveStates(this.orgId, this.run.period, dirty);
      chunk = [];
    };
    for (const user of users) {
      chunk.push(user instanceof Uint8Array ? [user, undefined] : [user[0], user[1]]);
      if (chunk.length === USERS_PER_STATEMENT) await flush();
    }
    if (chunk.length > 0) await flush();
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
