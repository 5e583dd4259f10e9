// The release schedule answers runs at points that depend on public inputs only, not on their work.
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { AppError } from '../errors/index.ts';
import type { RunProgress } from '../shared/index.ts';
import { openSqliteDb, type SqliteSqlDb } from '../store/index.ts';
import { publicSize, ReleaseSchedule, slotMs } from './release-schedule.ts';

const OPTIONS = { baseMs: 100, perUserMs: 1, maxEpoch: 4, decayMs: 0 };
/** The epoch falls by one per this long without a misprediction, in the decay tests. */
const DECAY = 60_000;
/** 30 users round up to 32: the first slot is 100 + 32 = 132 ms. */
const USERS = 30;
const FIRST_SLOT = 132;
const LIMIT = 10_000;

/** A compute that takes `ms` of (fake) time, then answers `value` or throws `error`. */
function work<T>(ms: number, value: T, error?: Error) {
  const seen: AbortSignal[] = [];
  const compute = (signal: AbortSignal) => {
    seen.push(signal);
    return new Promise<T>((resolve, reject) =>
      setTimeout(() => (error ? reject(error) : resolve(value)), ms),
    );
  };
  return { compute, seen };
}

/** When (fake ms after now) `promise` settles, and how. */
async function settle<T>(promise: Promise<T>, horizon = LIMIT * 2) {
  const start = Date.now();
  let end: { at: number; value?: T; error?: unknown } | undefined;
  promise.then(
    (value) => (end = { at: Date.now() - start, value }),
    (error: unknown) => (end = { at: Date.now() - start, error }),
  );
  for (let t = 0; t < horizon && !end; t++) await vi.advanceTimersByTimeAsync(1);
  return end!;
}

describe('release schedule', () => {
  let db: SqliteSqlDb;
  let schedule: ReleaseSchedule;
  beforeEach(() => {
    vi.useFakeTimers();
    db = openSqliteDb(':memory:');
    schedule = new ReleaseSchedule(db, OPTIONS);
  });
  afterEach(async () => {
    vi.useRealTimers();
    await db.close();
  });
  const run = (extra: Partial<Parameters<ReleaseSchedule['release']>[1]> = {}) => ({
    tableUsers: USERS,
    limitMs: LIMIT,
    ...extra,
  });

  it('sizes slots by the tables users rounded up to a power of two', () => {
    expect([0, 1, 2, 3, 30, 32, 33].map(publicSize)).toEqual([1, 1, 2, 4, 32, 32, 64]);
    expect(slotMs(OPTIONS, 0, 32)).toBe(FIRST_SLOT);
    expect(slotMs(OPTIONS, 3, 32)).toBe(8 * FIRST_SLOT);
  });

  it('answers a fast run and a slower run that fits its slot at the same moment', async () => {
    const fast = await settle(schedule.release('o', run(), work(1, 'fast').compute));
    const slow = await settle(schedule.release('o', run(), work(FIRST_SLOT - 5, 'slow').compute));
    expect(fast).toEqual({ at: FIRST_SLOT, value: 'fast' });
    expect(slow).toEqual({ at: FIRST_SLOT, value: 'slow' });
    expect(await schedule.epochOf('o')).toBe(0);
  });

  it('holds an error back until the release point, like a result', async () => {
    const failed = await settle(schedule.release('o', run(), work(0, 0, new Error('x')).compute));
    expect(failed.at).toBe(FIRST_SLOT);
    expect((failed.error as Error).message).toBe('x');
  });

  it('answers a mispredicted run at the next slot and keeps the higher epoch for later runs', async () => {
    const slow = await settle(schedule.release('o', run(), work(FIRST_SLOT + 1, 's').compute));
    expect(slow).toEqual({ at: 2 * FIRST_SLOT, value: 's' });
    expect(await schedule.epochOf('o')).toBe(1);
    const fast = await settle(schedule.release('o', run(), work(1, 'f').compute));
    expect(fast.at).toBe(2 * FIRST_SLOT);
    // Another organisation has its own epoch, and the epoch outlives the process (cloak.db).
    expect(await new ReleaseSchedule(db, OPTIONS).epochOf('o')).toBe(1);
    expect(await new ReleaseSchedule(db, OPTIONS).epochOf('other')).toBe(0);
    // An operator's reset starts the organisation at the first slot again.
    await schedule.reset('o');
    expect(await schedule.epochOf('o')).toBe(0);
    expect((await settle(schedule.release('o', run(), work(1, 'f').compute))).at).toBe(FIRST_SLOT);
  });

  it('keeps the epoch at or below maxEpoch, however slow the runs', async () => {
    const end = await settle(schedule.release('o', run(), work(40 * FIRST_SLOT, 'v').compute));
    expect(end).toEqual({ at: 64 * FIRST_SLOT, value: 'v' });
    expect(await schedule.epochOf('o')).toBe(OPTIONS.maxEpoch);
  });

  it('lowers a raised epoch by one per decay period without a misprediction, down to 0', async () => {
    const decaying = new ReleaseSchedule(db, { ...OPTIONS, decayMs: DECAY });
    const start = Date.now();
    await settle(decaying.release('o', run(), work(7 * FIRST_SLOT, 'slow').compute));
    expect(await decaying.epochOf('o')).toBe(3);
    // Raised last at its third point, 4 first slots after the start (then answered at the fourth).
    const raisedAt = start + 4 * FIRST_SLOT;
    const epochs: number[] = [];
    for (const ms of [DECAY - 1, DECAY, 2 * DECAY, 3 * DECAY, 10 * DECAY]) {
      vi.setSystemTime(raisedAt + ms);
      epochs.push(await decaying.epochOf('o'));
    }
    expect(epochs).toEqual([3, 2, 1, 0, 0]);
    // A fast run after the fall is answered at the first slot again.
    expect((await settle(decaying.release('o', run(), work(1, 'f').compute))).at).toBe(FIRST_SLOT);
  });

  it('lets at most maxEpoch slow runs plus one per decay period through', async () => {
    const decaying = new ReleaseSchedule(db, { ...OPTIONS, decayMs: DECAY });
    // As in production, the limit is the last slot (cloak/index.ts sizes maxEpoch so). The
    // attacker makes a run just too slow for its slot whenever one can still be mispredicted, and
    // otherwise runs fast, waiting for the epoch to fall.
    const limitMs = slotMs(OPTIONS, OPTIONS.maxEpoch, 32);
    let slowRuns = 0;
    const periods = 6;
    const until = Date.now() + periods * DECAY;
    while (Date.now() < until) {
      const epoch = await decaying.epochOf('o');
      const slot = slotMs(OPTIONS, epoch, 32);
      const ms = epoch < OPTIONS.maxEpoch ? slot + 1 : 1;
      const end = await settle(decaying.release('o', run({ limitMs }), work(ms, 'v').compute));
      if (end.at > slot) slowRuns++;
    }
    expect(slowRuns).toBeGreaterThan(OPTIONS.maxEpoch + periods / 2);
    expect(slowRuns).toBeLessThanOrEqual(OPTIONS.maxEpoch + periods);
  });

  it('keeps an epoch raised before an upgrade as if raised at the upgrade', async () => {
    const old = openSqliteDb(':memory:');
    await old.exec(
      'CREATE TABLE release_epochs (org_id TEXT PRIMARY KEY, epoch INTEGER NOT NULL) STRICT',
    );
    await old.run('INSERT INTO release_epochs VALUES (?, ?)', ['o', 3]);
    const upgraded = new ReleaseSchedule(old, { ...OPTIONS, decayMs: DECAY });
    expect(await upgraded.epochOf('o')).toBe(3);
    vi.setSystemTime(Date.now() + DECAY);
    expect(await upgraded.epochOf('o')).toBe(2);
    await old.close();
  });

  it('fails a run still busy at its limit exactly there, and stops its work', async () => {
    const { compute, seen } = work(LIMIT * 5, 'never');
    const end = await settle(schedule.release('o', run({ limitMs: 1000 }), compute));
    expect(end.at).toBe(1000);
    expect((end.error as AppError).code).toBe('TASK_RUN_TIMEOUT');
    expect(seen[0]!.aborted).toBe(true);
  });

  it('settles a cancelled run at once and stops its work', async () => {
    const controller = new AbortController();
    const { compute, seen } = work(FIRST_SLOT - 10, 'v');
    const promise = schedule.release('o', run({ signal: controller.signal }), compute);
    setTimeout(() => controller.abort(), 40);
    const end = await settle(promise);
    expect(end.at).toBe(40);
    expect((end.error as AppError).code).toBe('TASK_RUN_CANCELLED');
    expect(seen[0]!.aborted).toBe(true);
  });

  it('reports the same progress for runs of different work, and all users only at release', async () => {
    const trace = async (ms: number) => {
      const seen: Array<RunProgress & { at: number }> = [];
      const start = Date.now();
      const onProgress = (p: RunProgress) => seen.push({ ...p, at: Date.now() - start });
      await settle(
        schedule.release('o', run({ tableUsers: 1000, onProgress }), work(ms, 1).compute),
      );
      return seen;
    };
    const slot = slotMs(OPTIONS, 0, 1024);
    const quick = await trace(5);
    const busy = await trace(slot - 5);
    expect(busy).toEqual(quick);
    expect(quick.at(-1)).toEqual({ done: 1024, total: 1024, at: slot });
    expect(quick.slice(0, -1).every((p) => p.done < 1024)).toBe(true);
    expect(quick.length).toBeGreaterThan(3);
  });
});
