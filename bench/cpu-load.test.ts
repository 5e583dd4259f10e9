// The benchmarks' CPU load keeps cores busy while it runs and leaves no process behind.
import { readFileSync } from 'node:fs';
import { setTimeout as sleep } from 'node:timers/promises';
import { describe, expect, it } from 'vitest';
import { startCpuLoad } from './cpu-load.ts';

/** CPU time a process has used, in clock ticks (/proc/<pid>/stat: utime and stime). */
function cpuTicks(pid: number): number {
  const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
  const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
  return Number(fields[11]) + Number(fields[12]);
}

const alive = (pid: number) => {
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
};

describe('the benchmarks’ parallel CPU load', () => {
  it('runs a looping process per requested core until stopped, then none', async () => {
    const load = startCpuLoad(2);
    try {
      expect(load.pids).toHaveLength(2);
      // Each loop has used 0.3 s of CPU (more than a Node start-up) within 20 s, however busy the machine.
      for (const pid of load.pids) {
        let ticks = 0;
        for (let waited = 0; waited < 20_000 && ticks < 30; waited += 100) {
          await sleep(100);
          ticks = cpuTicks(pid);
        }
        expect(ticks).toBeGreaterThanOrEqual(30);
      }
    } finally {
      await load.stop();
    }
    expect(load.pids.filter(alive)).toEqual([]);
  });
});
