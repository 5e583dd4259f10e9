// The configuration schema: every setting, grouped by concern, with its default and its bounds.
import { availableParallelism } from 'node:os';
import { z } from 'zod';

const port = z.number().int().min(0).max(65535);

export const configSchema = z
  .object({
    /** Where the embedded default keeps its databases, keys and certificates. */
    dataDir: z.string().min(1).default('./data'),
    /** The web REST API (air): analysts read tasks and results here. */
    web: z
      .object({
        host: z.string().min(1).default('127.0.0.1'),
        port: port.default(8443),
        maxPerPage: z.number().int().min(1).max(1000).default(100),
        /**
         * The global login budget (docs/api.md, "Web logins"): the share of one core that checks
         * of failed logins from unknown addresses may take, and how many seconds of such checks
         * may run at once after a quiet spell. A twentieth: a flood of logins does not slow the
         * results API's p99 by 2x even on a busy 2-core machine.
         */
        loginCheckShare: z.number().positive().max(1).default(0.05),
        loginCheckBurstSeconds: z.number().positive().max(600).default(1),
      })
      .prefault({}),
    /** The air's storage (organisations, people, keys, tasks, results, logins). */
    air: z
      .object({
        /**
         * Where the air keeps its data: absent (the embedded default), air.db in the data
         * directory; a `postgres://` (or `postgresql://`) URL, a PostgreSQL database that several
         * API servers may share (README, "Server mode: the air on PostgreSQL"). The password is
         * best given in PGPASSWORD rather than in the URL.
         */
        store: z
          .string()
          .regex(/^postgres(ql)?:\/\/\S+$/, {
            message:
              'must be a PostgreSQL URL such as postgres://user@db.example.org:5432/opencloak; leave it out for air.db in the data directory',
          })
          .optional(),
      })
      .prefault({}),
    /** The cloak API: uploads, table definitions and task runs. */
    cloak: z
      .object({
        host: z.string().min(1).default('127.0.0.1'),
        port: port.default(8444),
        /**
         * Where the cloak keeps user tables, rows and lookup tables: a `postgres://` URL (server
         * mode) or a SQLite file; by default cloak.db in the data directory.
         */
        store: z.string().min(1).optional(),
        bodyLimitBytes: z
          .number()
          .int()
          .min(1024)
          .default(10 * 1024 * 1024),
        taskTimeoutSeconds: z.number().positive().max(86_400).default(120),
        /**
         * "Try it" on the site, all test users together: no test user starts after this, so a
         * try-it holds its sandbox process for at most this plus one user's runs (sandbox.timeoutMs,
         * up to 3 times that on a machine too busy to give the sandbox the CPU: src/sandbox).
         */
        tryTimeoutSeconds: z.number().positive().max(600).default(5),
        /** Runs nobody waits for (async, scheduled, started with "wait": false) may take longer. */
        backgroundTaskTimeoutSeconds: z.number().positive().max(604_800).default(21_600),
        /** Runs in progress per organisation, so that one cannot starve the others. */
        maxRunsPerOrganisation: z.number().int().min(1).max(1000).default(2),
        /** Attempts to deliver an async /task/run result to its return_url (backoff 1 s, 2 s, 4 s, ...). */
        deliveryAttempts: z.number().int().min(1).max(20).default(5),
        /** Sandbox processes one task run keeps busy at once; one per core by default. */
        sandboxProcesses: z.number().int().min(1).max(64).default(availableParallelism()),
        /**
         * How long a finished run's idle sandbox processes wait for the same organisation's next
         * run, which then skips starting Node (about 0.2 s of CPU a process; src/sandbox/README.md,
         * "Processes"). 0: every run starts its own processes.
         */
        idleSandboxSeconds: z.number().min(0).max(3600).default(10),
        /** How often streaming tasks look for newly arrived data. */
        streamingIntervalMs: z.number().int().min(10).max(600_000).default(1000),
        /** Wait before the second delivery attempt; it doubles after each failure. */
        deliveryFirstDelayMs: z.number().int().min(1).max(600_000).default(1000),
      })
      .prefault({}),
    tls: z
      .object({
        /** Host names and addresses the server certificate is valid for. */
        hosts: z.array(z.string().min(1)).min(1).default(['localhost', '127.0.0.1', '::1']),
        caValidDays: z.number().int().min(1).default(3650),
        serverValidDays: z.number().int().min(1).default(825),
        clientKeyValidDays: z.number().int().min(1).default(365),
      })
      .prefault({}),
    sandbox: z
      .object({
        timeoutMs: z.number().int().min(1).max(60_000).default(1000),
        memoryLimitMb: z.number().int().min(8).max(4096).default(128),
        maxPropertiesPerUser: z.number().int().min(1).max(1_000_000).default(10_000),
        /**
         * The sandbox processes' niceness (0 the server's, 19 the lowest): at 19 the server's threads
         * win the cores while tasks work, and on a host whose cores other programs keep busy the
         * tasks get almost nothing (docs/operations.md, "CPU: tasks yield to the server").
         */
        niceness: z.number().int().min(0).max(19).default(19),
      })
      .prefault({}),
    /**
     * Anonymization that outlives one run: the per-(organisation, user) participation budget
     * (docs/anonymization.md, "The participation budget").
     */
    privacy: z
      .object({
        /** Off only for a lab that must see what an attack gets without it. */
        participationBudget: z.boolean().default(true),
        /**
         * Total zCDP-like loss each user may spend on fresh buckets per organisation (and per
         * budget period): a fresh bucket of n users costs each member 1 / (2 sd(n)^2), 0.005
         * for a bucket of up to 51 users, 0.00026 at 1,000 users, 0.0000056 at 10,000. The budget
         * notices add at most 0.0054, so the total (0.0254) is one look at sd 4.4, where the
         * averaging attacks' best cut stays below kappa 0.5 with a margin (docs/anonymization.md,
         * "Why these noise levels and 0.02").
         */
        participationRho: z.number().positive().max(1_000_000).default(0.02),
        /**
         * Days after which every (organisation, user) budget renews, for installations whose
         * periodic tasks read new data each period; 0 (the default) never renews. With a period
         * the guarantee holds per period, not for ever (docs/anonymization.md, "Budget periods").
         */
        budgetPeriodDays: z.number().int().min(0).max(36_500).default(0),
        /**
         * The access level of people added from now on (docs/anonymization.md, "Access levels"):
         * `trusted` runs skip the participation budget and are audited with their code. An admin
         * changes one person's level; this only sets where everyone starts.
         */
        defaultAccessLevel: z.enum(['untrusted', 'trusted']).default('untrusted'),
        /**
         * Answers leave at release points that depend only on public inputs, so that a run's
         * duration says nothing about one user (docs/anonymization.md, "Timing"). Off only for a lab.
         */
        releaseSchedule: z.boolean().default(true),
        /** The first release point: baseMs + perUserMs x the tables' users (a power of two). */
        releaseBaseMs: z.number().min(1).max(600_000).default(250),
        releasePerUserMs: z.number().min(0).max(1000).default(0.025),
        /**
         * An organisation's release epoch falls by one per this many hours without a
         * misprediction, so a rise caused by machine load does not last; each period lets at most
         * one more slow run through (docs/anonymization.md, "Timing"). 0: it never falls.
         */
        releaseEpochDecayHours: z.number().min(0).max(87_600).default(24),
      })
      .prefault({}),
    /**
     * Server logs (JSON lines on stdout, written in the background: a request never waits for
     * its log line). Keys, passwords and cookies are redacted whatever the level.
     */
    log: z
      .object({
        level: z
          .enum(['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent'])
          .default('info'),
        /**
         * One line per answered request (method, path, status, time): `all`, only `errors`
         * (4xx and 5xx), or `off`.
         */
        access: z.enum(['all', 'errors', 'off']).default('all'),
        /**
         * With `access: all`, the share of successful requests logged (errors always are): an
         * installation whose dashboards poll the results API thousands of times a second keeps
         * a sample, 0.01 say.
         */
        accessSample: z.number().min(0).max(1).default(1),
      })
      .prefault({}),
    /**
     * Prometheus metrics at GET /metrics on a listener of their own, plain HTTP (docs/operations.md).
     * Off by default, and on the loopback address when on: the figures are the trusted side's
     * (exact user counts of runs go into them), for the operator's monitoring, never for analysts.
     */
    metrics: z
      .object({
        enabled: z.boolean().default(false),
        host: z.string().min(1).default('127.0.0.1'),
        port: port.default(9464),
      })
      .prefault({}),
    /** What SIGTERM and SIGINT do (docs/operations.md, "Shutdown"). */
    shutdown: z
      .object({
        /**
         * How long runs in progress may go on finishing once a stop is asked for; what is left
         * then is cancelled (and answered, or delivered, as failed). Below a container
         * runtime's stop timeout (Docker's 10 s by default: give `docker stop -t` more).
         */
        drainSeconds: z.number().min(0).max(86_400).default(30),
      })
      .prefault({}),
    /**
     * Server mode (docs/server-mode.md): with a url, task runs go as shard jobs to `opencloak
     * worker` processes through pg-boss on this PostgreSQL database, and the run cap and the
     * scheduler's periods are kept there. Without one, everything runs in this process.
     */
    queue: z
      .object({
        url: z
          .string()
          .regex(/^postgres(ql)?:\/\//, 'must be a postgres:// or postgresql:// URL')
          .optional(),
        /** Shard jobs per run: at least the number of workers, more to even out shard sizes. */
        shards: z.number().int().min(1).max(1024).default(4),
        /** A shard still running after this long is taken to have lost its worker and is retried. */
        shardTimeoutSeconds: z.number().int().min(1).max(82_800).default(3600),
        /** Retries of a shard whose worker died or failed, before the run fails. */
        shardRetries: z.number().int().min(0).max(20).default(2),
        /** How often workers look for shards and the coordinator for finished ones. */
        pollingSeconds: z.number().min(0.5).max(60).default(1),
        /** Sandbox processes an `opencloak worker` keeps busy on one shard. */
        workerProcesses: z.number().int().min(1).max(64).default(availableParallelism()),
      })
      .prefault({}),
    /** Periodic tasks: how often the scheduler looks for due runs. */
    scheduler: z
      .object({
        tickMs: z.number().int().min(10).max(3_600_000).default(5000),
      })
      .prefault({}),
  })
  .strict();

export type OpenCloakConfig = z.infer<typeof configSchema>;
export type ConfigInput = z.input<typeof configSchema>;
