// How many users of a task time out when the machine is busy: the measurement behind the
// sandbox's CPU-time limit (src/sandbox/README.md, "Limits").
//
// node --no-node-snapshot --import tsx bench/scheduling/starved-users.ts [busy processes] [repo]
//
// A sandbox process (niceness 19) is started and warmed with one user; then the given number of
// busy loops at the default priority start beside it (2 fill this machine's cores), and three
// batches of 10 users run with a 200 ms limit, each user looping 10,000, 100,000 or 300,000
// times (about 0.2, 2 and 6 ms of CPU time on a quiet machine). `repo` is the checkout whose
// sandbox runs (default this one), to compare with an earlier commit's worktree.
import { spawn } from 'node:child_process';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

const busyCount = Number(process.argv[2] ?? 2);
const repo = process.argv[3] ?? path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../..');
const { compileTask } = (await import(
  path.join(repo, 'src/sandbox/index.ts')
)) as typeof import('../../src/sandbox/index.ts');

const program = compileTask(
  `let x = 0; for (let i = 0; i < tables.t[0].n; i++) x = (x + i) | 0;
   report_property("x", x === -1 ? "never" : "done");`,
  { timeoutMs: 200 },
);
await program.runUsers([{ tables: { t: [{ n: 1 }] } }]);
const busy = Array.from({ length: busyCount }, () =>
  spawn(process.execPath, ['-e', 'for (;;) {}'], { stdio: 'ignore' }),
);
try {
  await new Promise((resolve) => setTimeout(resolve, 300));
  for (const n of [1e4, 1e5, 3e5]) {
    const users = Array.from({ length: 10 }, () => ({ tables: { t: [{ n }] } }));
    const started = performance.now();
    const outcomes = await program.runUsers(users);
    const timeouts = outcomes.filter((o) => !o.ok).length;
    const wall = (performance.now() - started).toFixed(0);
    console.log(`${busyCount} busy, ${n} iterations: ${timeouts} of 10 timed out, ${wall} ms`);
  }
} finally {
  for (const b of busy) b.kill();
  await program.dispose();
}
