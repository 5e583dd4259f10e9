// Test runner configuration: forked workers with --no-node-snapshot, which isolated-vm needs on Node 20.
import { defineConfig } from 'vitest/config';

/**
 * The attacks that time the cloak from outside. They measure the release schedule and the
 * server's latency, and with the rest of the suite beside them (three workers on two cores,
 * sandboxes, browsers) the streaming channel measured 0.25 to 0.53 from one run to the next,
 * depending on what ran beside it. So they run last, as a group of their own, once the rest of
 * the suite no longer loads the machine; they mostly wait for release points, which costs the
 * suite about 25 s. `npm run attacks:full` measures them under load too (docs/anonymization.md).
 */
const TIMED_ATTACKS = [
  'test/attacks/timing-channel.test.ts',
  'test/attacks/progress-channel.test.ts',
  'test/attacks/streaming-timing.test.ts',
];

export default defineConfig({
  test: {
    pool: 'forks',
    execArgv: ['--no-node-snapshot'],
    testTimeout: 60_000,
    hookTimeout: 120_000,
    maxWorkers: 3,
    // Test files share a worker's module cache: importing the server's modules again for each of
    // about 200 files was a fifth of the suite's CPU. Files keep their state in their own
    // describe blocks and close what they open (a module-level singleton would leak between them).
    isolate: false,
    projects: [
      {
        extends: true,
        test: {
          name: 'suite',
          include: [
            'src/**/*.test.ts',
            'test/**/*.test.ts',
            'bench/**/*.test.ts',
            'web/src/**/*.test.tsx',
          ],
          exclude: TIMED_ATTACKS,
          sequence: { groupOrder: 0 },
        },
      },
      {
        extends: true,
        test: { name: 'timed attacks', include: TIMED_ATTACKS, sequence: { groupOrder: 1 } },
      },
    ],
  },
});
