// One suite, both dialects: the release schedule keeps each organisation's epoch the same way on SQLite and PostgreSQL.
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { appliedVersions } from '../store/index.ts';
import { TEST_DIALECTS, type TestDb } from '../store/test-support.ts';
import { ReleaseSchedule } from './release-schedule.ts';
import { RELEASE_COMPONENT } from './release-schema.ts';

/** A first slot of 20 ms: a run that takes 60 ms is mispredicted whatever the machine's load. */
const OPTIONS = { baseMs: 20, perUserMs: 0, maxEpoch: 2, decayMs: 0 };
const slow = (ms: number) => () => new Promise<string>((resolve) => setTimeout(resolve, ms, 'v'));

describe.each(TEST_DIALECTS)('the release schedule’s storage on $dialect', ({ open }) => {
  let t: TestDb;
  beforeEach(async () => {
    t = await open();
  });
  afterEach(async () => t.cleanup());

  it('starts every organisation at epoch 0 and migrates its table once', async () => {
    const schedule = new ReleaseSchedule(t.db, OPTIONS);
    expect(await schedule.epochOf('o')).toBe(0);
    await new ReleaseSchedule(t.db, OPTIONS).ready();
    expect(await appliedVersions(t.db, RELEASE_COMPONENT)).toEqual([1, 2]);
  });

  it('raises a mispredicted organisation’s epoch, keeps it for other handles, and resets it', async () => {
    const schedule = new ReleaseSchedule(t.db, OPTIONS);
    const run = { tableUsers: 1, limitMs: 10_000 };
    expect(await schedule.release('o', run, slow(60))).toBe('v');
    expect(await schedule.epochOf('o')).toBeGreaterThanOrEqual(1);
    expect(await schedule.epochOf('other')).toBe(0);
    // Never above maxEpoch, however slow.
    await schedule.release('o', run, slow(300));
    expect(await schedule.epochOf('o')).toBe(OPTIONS.maxEpoch);
    expect(await new ReleaseSchedule(t.db, OPTIONS).epochOf('o')).toBe(OPTIONS.maxEpoch);
    await schedule.reset('o');
    expect(await schedule.epochOf('o')).toBe(0);
  });

  it('lowers the epoch by one per decay period since it was raised', async () => {
    let now = 1_000_000;
    const decaying = new ReleaseSchedule(t.db, { ...OPTIONS, decayMs: 1000 }, () => now);
    const run = { tableUsers: 1, limitMs: 10_000 };
    // The schedule's clock stands still while the timers run: the first point (20 ms) comes
    // before the 60 ms run is done, so the epoch rises, all of it at the same moment `now`.
    await decaying.release('o', run, slow(60));
    const raised = await decaying.epochOf('o');
    expect(raised).toBeGreaterThanOrEqual(1);
    now += 1000;
    expect(await decaying.epochOf('o')).toBe(raised - 1);
  });
});
