// Test runner configuration: forked workers with --no-node-snapshot, which isolated-vm needs on Node 20.
import { defineConfig } from 'vitest/config';

export default defineConfig({
  test: {
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
  },
});
