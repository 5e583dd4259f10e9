// How much a low-priority process that loops shows in another process's wake-ups: the measurement
// behind the sandbox's scheduling policy (src/sandbox/sandbox-process.ts, docs/anonymization.md).
//
// node bench/scheduling/wakeup-gaps.mjs [nice|idle|pinned|pinned-looper] [busy processes] [windows]
//
// A "looper" process is started once, at niceness 19 (nice) or under SCHED_IDLE (idle, through
// util-linux's chrt), beside the given number of busy loops at the default priority. `pinned`
// puts the looper on the last core and this process on the others (taskset), `pinned-looper`
// the looper only: the placement tried for sandboxes on 7 December and not adopted
// (docs/anonymization.md, "The streaming timing channel is the machine's"). Then, window
// after window, it loops for 200 ms or not at all (alternating), while this process measures the
// longest gap of a 1 ms timer over 600 ms: what a server's answer would wait at worst. The AUC is
// the chance that a window with the loop has the longer gap (0.5: the loop cannot be told).
import { execFileSync, spawn } from 'node:child_process';
import { availableParallelism, setPriority } from 'node:os';
import { performance } from 'node:perf_hooks';
import { setTimeout as sleep } from 'node:timers/promises';

const policy = process.argv[2] ?? 'idle';
const busy = Number(process.argv[3] ?? 2);
const windows = Number(process.argv[4] ?? 240);

const hogs = Array.from({ length: busy }, () =>
  spawn(process.execPath, ['-e', 'for (;;) {}'], { stdio: 'ignore' }),
);
const LOOPER = `process.stdin.on('data', (d) => {
  const end = Date.now() + (String(d).trim() === 'on' ? 200 : 0);
  while (Date.now() < end) {}
  process.stdout.write('done\\n');
});`;
const node = [process.execPath, '-e', LOOPER];
const lastCpu = String(availableParallelism() - 1);
const [command, ...args] =
  policy === 'idle'
    ? ['chrt', '--idle', '0', ...node]
    : policy.startsWith('pinned')
      ? ['taskset', '--cpu-list', lastCpu, ...node]
      : node;
const looper = spawn(command, args, { stdio: ['pipe', 'pipe', 'ignore'] });
if (policy !== 'idle') setPriority(looper.pid, 19);
if (policy === 'pinned') {
  // 'pinned-looper' leaves this process free to run on every core.
  const others = lastCpu === '0' ? '0' : `0-${Number(lastCpu) - 1}`;
  execFileSync('taskset', ['--all-tasks', '--cpu-list', '--pid', others, String(process.pid)]);
}
await sleep(300);

async function longestGap(ms) {
  let worst = 0;
  let last = performance.now();
  const end = last + ms;
  while (performance.now() < end) {
    await sleep(1);
    const now = performance.now();
    worst = Math.max(worst, now - last);
    last = now;
  }
  return worst;
}

const gaps = { on: [], off: [] };
for (let i = 0; i < windows; i++) {
  const on = i % 2 === 0;
  const done = new Promise((resolve) => looper.stdout.once('data', resolve));
  looper.stdin.write(on ? 'on\n' : 'off\n');
  const gap = await longestGap(600);
  await done;
  gaps[on ? 'on' : 'off'].push(gap);
  await sleep(50);
}
for (const hog of hogs) hog.kill();
looper.kill();

const median = (xs) => [...xs].sort((a, b) => a - b)[xs.length >> 1];
let wins = 0;
for (const a of gaps.on) for (const b of gaps.off) wins += a > b ? 1 : a === b ? 0.5 : 0;
const auc = wins / (gaps.on.length * gaps.off.length);
console.log(
  `${policy}, ${busy} busy processes, ${windows} windows: longest gap at the median ` +
    `${median(gaps.on).toFixed(1)} ms with the loop, ${median(gaps.off).toFixed(1)} ms without; AUC ${auc.toFixed(2)}`,
);
