// The job queue of server mode: pg-boss on PostgreSQL, its one queue of shard jobs, and its settings.
import pg from 'pg';
import PgBoss from 'pg-boss';
import { AppError } from '../../errors/index.ts';
import type { PrefetchSpec } from '../../shared/index.ts';
import type { SandboxLimits } from '../../sandbox/index.ts';

/** Every shard job of every run; workers take them in the order they were sent. */
export const SHARD_QUEUE = 'opencloak-shard';

/** Async results on their way to a return_url (delivery-queue.ts). */
export const DELIVERY_QUEUE = 'opencloak-delivery';

/** pg-boss keeps its tables in a schema of its own, apart from any table of OpenCloak's. */
const QUEUE_SCHEMA = 'opencloak_queue';

/** How shard jobs are retried and given up on (config `queue`). */
export interface QueueSettings {
  /** postgres://user:password@host:port/database; never logged (it may hold a password). */
  url: string;
  /** A shard still active after this long is taken to be lost (its worker died) and retried. */
  shardTimeoutSeconds: number;
  /** Retries of a shard whose worker failed or died, before the run fails. */
  shardRetries: number;
  /** How often workers look for jobs, and the coordinator for finished shards. */
  pollingSeconds: number;
}

/** One shard of one run: all a worker needs besides the data directory and its secret. */
export interface ShardJob {
  runId: string;
  orgId: string;
  /** JavaScript, checked by the coordinator's validate (TypeScript already transpiled). */
  code: string;
  prefetch: PrefetchSpec[];
  limits: SandboxLimits;
  /** The run's clock for time_limit, the same for every shard. */
  now: number;
  shard: number;
  shards: number;
}

/**
 * Opens pg-boss on the queue database, creating its schema and the shard queue on first use.
 * Expiry of lost shards runs in pg-boss's maintenance, every `pollingSeconds` at least once a
 * second, so a killed worker's shard is retried within a timeout and a poll.
 */
export async function openQueue(settings: Readonly<QueueSettings>): Promise<PgBoss> {
  const boss = new PgBoss({
    connectionString: settings.url,
    schema: QUEUE_SCHEMA,
    application_name: 'opencloak',
    max: 4,
    maintenanceIntervalSeconds: Math.max(1, Math.round(settings.pollingSeconds)),
    // Completed shards hold user keys: the coordinator deletes them once merged, and pg-boss
    // deletes whatever a coordinator that died left behind.
    deleteAfterHours: 1,
  });
  // pg-boss reports errors of its background work here; without a listener they would crash
  // the process. The coordinator and the workers see the same failures on their own calls.
  boss.on('error', () => undefined);
  try {
    await whileHoldingSetupLock(settings.url, async () => {
      await boss.start();
      for (const queue of [SHARD_QUEUE, DELIVERY_QUEUE]) {
        if (!(await boss.getQueue(queue))) await boss.createQueue(queue);
      }
    });
  } catch (error) {
    await boss.stop({ graceful: false, wait: false }).catch(() => undefined);
    throw new AppError('QUEUE_UNREACHABLE', {
      queue: describeQueue(settings.url),
      detail: (error as Error).message,
    });
  }
  return boss;
}

/** Any fixed number; only processes opening this queue take this advisory lock. */
const SETUP_LOCK = 0x6f63_7175; // 'ocqu'

/**
 * pg-boss creates its schema and each queue's partition table on first use. A coordinator and
 * workers starting at once did that concurrently and PostgreSQL answered one of them with
 * "deadlock detected" (seen in CI), so every process sets up under one session lock, in turn.
 */
async function whileHoldingSetupLock(url: string, setup: () => Promise<void>): Promise<void> {
  const client = new pg.Client({ connectionString: url, application_name: 'opencloak' });
  client.on('error', () => undefined);
  await client.connect();
  try {
    await client.query('SELECT pg_advisory_lock($1)', [SETUP_LOCK]);
    await setup();
  } finally {
    // Ending the session releases the lock even if the unlock below is never reached.
    await client.query('SELECT pg_advisory_unlock($1)', [SETUP_LOCK]).catch(() => undefined);
    await client.end().catch(() => undefined);
  }
}

/** The queue's address without its password, for messages and logs. */
export function describeQueue(url: string): string {
  try {
    const parsed = new URL(url);
    return `${parsed.hostname}:${parsed.port || '5432'}${parsed.pathname}`;
  } catch {
    return 'the configured queue (queue.url is not a valid URL)';
  }
}
