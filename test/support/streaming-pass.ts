// A child process for kill -9 tests: opens the cloak of a data directory and runs one streaming pass.
import { buildConfig } from '../../src/config/index.ts';
import { openCloak } from '../../src/cloak/index.ts';

export const STREAMING_ORG = 'org-kill9';
export const STREAMING_TASK = 'task-kill9';
/**
 * Counts the arrivals each user's accumulator saw, with some work per user so that a pass lasts
 * long enough to be killed in the middle.
 */
export const COUNTING_TASK = `let x = 0; for (let i = 0; i < 20000; i++) x += i % 3;
accumulator = (accumulator ?? 0) + 1;
report_property('arrivals', accumulator);`;

if (process.argv[2] === 'run-pass') {
  const cloak = await openCloak(
    buildConfig({ dataDir: process.argv[3]!, cloak: { sandboxProcesses: 1 } }),
  );
  await cloak.streaming.register(STREAMING_ORG, STREAMING_TASK, {
    code: COUNTING_TASK,
    prefetch: [{ table: 't' }],
  });
  process.stdout.write('pass started\n');
  const users = await cloak.streaming.process();
  process.stdout.write(`pass done: ${users} users\n`);
  await cloak.close();
}
