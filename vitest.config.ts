// Test runner configuration: forked workers with --no-node-snapshot, which isolated-vm needs on Node 20.
import { defineConfig } from 'vitest/config';
import { SlowFirstSequencer } from './test/support/slow-first-sequencer.ts';

export default defineConfig({
  test: {
    // The timed attacks run among the rest: tried as a last group of their own (6 December), the
    // streaming channel measured 0.34, 0.41 and 0.705 there, on a machine the rest no longer
    // loaded, against 0.25 beside the rest (docs/anonymization.md).
    include: [
      'src/**/*.test.ts',
      'test/**/*.test.ts',
      'bench/**/*.test.ts',
      'web/src/**/*.test.tsx',
    ],
    pool: 'forks',
    execArgv: ['--no-node-snapshot'],
    testTimeout: 60_000,
    hookTimeout: 120_000,
    maxWorkers: 3,
    // Test files share a worker's module cache: importing the server's modules again for each of
    // about 200 files was a fifth of the suite's CPU. Files keep their state in their own
    // describe blocks and close what they open (a module-level singleton would leak between them).
    isolate: false,
    // The slowest files first, whether or not vitest has cached durations (CI has none).
    sequence: { sequencer: SlowFirstSequencer },
  },
});
