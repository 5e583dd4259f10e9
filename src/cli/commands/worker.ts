// CLI: `opencloak worker`, a process that runs shards of task runs taken from the server mode's queue.
import type { Command } from 'commander';
import { cloakStore, type GlobalOptions } from '../context.ts';

/** Ctrl-C and a service manager's stop: the shard in hand is finished first. */
const STOP_SIGNALS = ['SIGINT', 'SIGTERM', 'SIGHUP'] as const;

interface WorkerFlags {
  queue?: string;
  processes?: string;
}

/** At most one line about an unreachable queue per this long. */
const QUEUE_ERROR_EVERY_MS = 10_000;

export function registerWorkerCommand(program: Command): void {
  program
    .command('worker')
    .description(
      "server mode: run shards of task runs taken from the job queue; with --store postgres://... on any host (the data directory then holds only secrets/noise.key, copied from the server), without it on the server's host and data directory",
    )
    .option('--queue <url>', 'the PostgreSQL database of the job queue (queue.url)')
    .option('--processes <n>', 'sandbox processes per shard (queue.workerProcesses)')
    .action(async (flags: WorkerFlags, command: Command) => {
      const globals = command.optsWithGlobals() as GlobalOptions;
      const { ConfigError, loadConfig } = await import('../../config/index.ts');
      const config = loadConfig(globals.config, {
        ...(globals.dataDir !== undefined ? { dataDir: globals.dataDir } : {}),
        cloak: cloakStore(globals),
        queue: {
          ...(flags.queue !== undefined ? { url: flags.queue } : {}),
          ...(flags.processes !== undefined ? { workerProcesses: Number(flags.processes) } : {}),
        },
      });
      if (config.queue.url === undefined) {
        throw new ConfigError(
          'opencloak worker needs the job queue: give --queue postgres://... (or set queue.url).',
        );
      }
      // One line per shard, with the run's id: a run is followed across the coordinator and
      // its workers by that id. Nothing of the task or its users is written.
      let lastQueueError = 0;
      const { startWorker } = await import('../../platform/index.ts');
      const worker = await startWorker(config, {
        onShard: ({ runId, shard, shards, users }) => {
          const what = users === undefined ? 'started' : `done (${users} users)`;
          process.stdout.write(`run ${runId} shard ${shard + 1}/${shards} ${what}\n`);
        },
        // While PostgreSQL restarts every poll fails: one line per 10 s says so, not hundreds.
        onQueueError: ({ queue, message }) => {
          if (Date.now() - lastQueueError < QUEUE_ERROR_EVERY_MS) return;
          lastQueueError = Date.now();
          process.stderr.write(`the job queue (${queue}) failed: ${message}; retrying\n`);
        },
      });
      // The store is named by its kind only: a URL may hold a password.
      const data = config.cloak.store?.match(/^postgres(ql)?:\/\//)
        ? 'data on PostgreSQL'
        : `data directory ${config.dataDir}`;
      process.stdout.write(`OpenCloak worker is running (${data}).\n`);
      let stopping = false;
      const stop = () => {
        if (stopping) return;
        stopping = true;
        void worker.stop().then(() => process.exit(0));
      };
      for (const signal of STOP_SIGNALS) process.on(signal, stop);
    });
}
