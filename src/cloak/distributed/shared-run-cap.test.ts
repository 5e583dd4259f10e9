// The run cap holds across two API servers: runs counted in PostgreSQL, not in each process.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { AppError } from '../../errors/index.ts';
import { createDatabase } from '../../../test/server-mode/support.ts';
import { SharedRunCap } from './shared-run-cap.ts';

describe('the run cap across servers', () => {
  let database: Awaited<ReturnType<typeof createDatabase>>;
  let first: SharedRunCap;
  let second: SharedRunCap;

  beforeAll(async () => {
    database = await createDatabase();
    // Two servers' caps on one database, each allowing 2 runs per organisation.
    first = new SharedRunCap(database.url, 2);
    second = new SharedRunCap(database.url, 2);
  });

  afterAll(async () => {
    await Promise.all([first?.close(), second?.close()]);
    await database?.drop();
  });

  it('refuses a third run on the second server while two run on the first and second', async () => {
    let finish!: () => void;
    const held = new Promise<void>((resolve) => (finish = resolve));
    const a = first.count('org', () => held);
    const b = second.count('org', () => held);
    await expect.poll(() => first.running('org')).toBe(2);
    const refused = await second.count('org', async () => 'ran').catch((error: unknown) => error);
    expect(refused).toBeInstanceOf(AppError);
    expect((refused as AppError).code).toBe('TOO_MANY_RUNS');
    // Another organisation is not held up by this one.
    await expect(second.count('other', async () => 'ran')).resolves.toBe('ran');
    finish();
    await Promise.all([a, b]);
    expect(await second.running('org')).toBe(0);
    await expect(second.count('org', async () => 'ran')).resolves.toBe('ran');
  });

  it('lets two servers race for the last slot and gives it to one', async () => {
    let finish!: () => void;
    const held = new Promise<void>((resolve) => (finish = resolve));
    const one = first.count('race', () => held);
    await expect.poll(() => first.running('race')).toBe(1);
    const refused: unknown[] = [];
    const attempts = [
      first.count('race', () => held),
      second.count('race', () => held),
      second.count('race', () => held),
    ].map((attempt) => attempt.catch((error: unknown) => void refused.push(error)));
    // Cap 2 and one run held: one attempt gets the last slot, the other two are refused.
    await expect.poll(() => refused.length).toBe(2);
    expect(refused.every((e) => e instanceof AppError && e.code === 'TOO_MANY_RUNS')).toBe(true);
    expect(await second.running('race')).toBe(2);
    finish();
    await Promise.all([one, ...attempts]);
  });
});
