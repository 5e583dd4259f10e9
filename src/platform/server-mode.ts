// Server mode's connections: the job queue and the shared run cap, opened when config.queue.url is set.
import {
  DeliveryQueue,
  openQueue,
  SharedRunCap,
  ShardCoordinator,
  startDeliveryLoop,
  startShardWorker,
  type DeliveryEvents,
  type JobLoop,
  type OpenCloakOptions,
  type QueueSettings,
  type RunningWorker,
  type WorkerOptions,
} from '../cloak/index.ts';
import type { OpenCloakConfig } from '../config/index.ts';
import { PgPeriodLease } from './period-lease.ts';

export interface ServerMode {
  /** What openCloak needs to send runs to workers and count runs in the database. */
  cloakOptions: NonNullable<OpenCloakOptions['serverMode']>;
  /** The scheduler's periods, claimed in the database so that one runs once over all servers. */
  lease: PgPeriodLease;
  /** Async results, handed to the queue so that any server delivers them. */
  deliveries: DeliveryQueue;
  /** Starts this server's share of the deliveries; `close` stops it. */
  deliverResults(events: DeliveryEvents): void;
  close(): Promise<void>;
}

const DELIVERY_STOP_GRACE_MS = 5000;

/** The queue settings of the configuration, or undefined on the embedded default (no url). */
export function queueSettings(config: Readonly<OpenCloakConfig>): QueueSettings | undefined {
  const { url, shardTimeoutSeconds, shardRetries, pollingSeconds } = config.queue;
  return url === undefined ? undefined : { url, shardTimeoutSeconds, shardRetries, pollingSeconds };
}

/** Opens the queue for a coordinator (an API server); undefined on the embedded default. */
export async function openServerMode(
  config: Readonly<OpenCloakConfig>,
): Promise<ServerMode | undefined> {
  const settings = queueSettings(config);
  if (!settings) return undefined;
  const boss = await openQueue(settings);
  const runCap = new SharedRunCap(settings.url, config.cloak.maxRunsPerOrganisation);
  const shards = new ShardCoordinator(boss, { settings, shards: config.queue.shards });
  const lease = new PgPeriodLease(settings.url);
  let deliveryLoop: JobLoop | undefined;
  return {
    cloakOptions: { shards, runCap },
    lease,
    deliveries: new DeliveryQueue(boss, {
      attempts: config.cloak.deliveryAttempts,
      firstDelayMs: config.cloak.deliveryFirstDelayMs,
    }),
    deliverResults(events) {
      deliveryLoop ??= startDeliveryLoop(boss, settings, events);
    },
    async close() {
      // A delivery in hand gets a few seconds; one cut short is retried by another server.
      await deliveryLoop?.stop(DELIVERY_STOP_GRACE_MS);
      await Promise.allSettled([
        boss.stop({ graceful: false, wait: true }),
        runCap.close(),
        lease.close(),
      ]);
    },
  };
}

/**
 * `opencloak worker`: shard jobs over the configuration's queue, read from `cloak.store` (or the
 * data directory's cloak.db), with the data directory's noise secret.
 */
export function startWorker(
  config: Readonly<OpenCloakConfig>,
  events: Pick<WorkerOptions, 'onShard' | 'onQueueError'> = {},
): Promise<RunningWorker> {
  const settings = queueSettings(config);
  if (!settings) throw new Error('startWorker needs queue.url (--queue postgres://...)');
  return startShardWorker({
    settings,
    dataDir: config.dataDir,
    ...(config.cloak.store !== undefined ? { store: config.cloak.store } : {}),
    processes: config.queue.workerProcesses,
    ...events,
  });
}
