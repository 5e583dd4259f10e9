// One period of a periodic task runs on one server only: the lease in PostgreSQL gives it to one claimant.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createDatabase } from '../../test/server-mode/support.ts';
import pg from 'pg';
import { CLAIM_LEASE_SECONDS, PgPeriodLease } from './period-lease.ts';

describe('the period lease across servers', () => {
  let database: Awaited<ReturnType<typeof createDatabase>>;
  let servers: PgPeriodLease[];

  beforeAll(async () => {
    database = await createDatabase();
    servers = [new PgPeriodLease(database.url), new PgPeriodLease(database.url)];
  });

  afterAll(async () => {
    await Promise.all(servers.map((s) => s.close()));
    await database?.drop();
  });

  it('gives each (task, due time) to exactly one of many concurrent claims', async () => {
    const claims = await Promise.all(
      Array.from({ length: 10 }, (_, i) => servers[i % 2]!.claim(7, 1_700_000_000_000)),
    );
    expect(claims.filter(Boolean)).toHaveLength(1);
    // The next period is a new claim.
    expect(await servers[1]!.claim(7, 1_700_000_060_000)).toBe(true);
    expect(await servers[0]!.claim(8, 1_700_000_000_000)).toBe(true);
  });

  it('lets a period whose run could not start be claimed again', async () => {
    expect(await servers[0]!.claim(9, 5)).toBe(true);
    expect(await servers[1]!.claim(9, 5)).toBe(false);
    await servers[0]!.release(9, 5);
    expect(await servers[1]!.claim(9, 5)).toBe(true);
  });

  it('hands a period on when its claimant died before starting it, and only then', async () => {
    expect(await servers[0]!.claim(10, 5)).toBe(true);
    // Still within the lease: a live server may be starting the run.
    expect(await servers[1]!.claim(10, 5)).toBe(false);
    // The claimant died: its row ages past the lease, the period still due.
    const admin = new pg.Client({ connectionString: database.url });
    await admin.connect();
    try {
      await admin.query(
        `UPDATE opencloak_periods SET claimed_at = now() - make_interval(secs => $1)
         WHERE task_id = 10`,
        [CLAIM_LEASE_SECONDS + 1],
      );
    } finally {
      await admin.end();
    }
    const takeovers = await Promise.all([servers[1]!.claim(10, 5), servers[0]!.claim(10, 5)]);
    expect(takeovers.filter(Boolean)).toHaveLength(1);
    expect(await servers[1]!.claim(10, 5)).toBe(false);
  });
});
