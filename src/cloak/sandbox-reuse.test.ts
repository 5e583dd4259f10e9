// A finished run's idle sandbox processes serve the same organisation's next run, with the same published bytes.
import { mkdtempSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { buildConfig } from '../config/index.ts';
import { liveSandboxProcesses } from '../sandbox/test-support.ts';
import { openCloak, type Cloak } from './index.ts';
import { pinNoiseSecret } from './noise-secret-test-support.ts';

const TASK = {
  code: 'for (const r of tables.t) report_property("bucket", r.n % 3);',
  prefetch: [{ table: 't' }],
};

async function filled(dir: string, idleSandboxSeconds: number): Promise<Cloak> {
  // One noise secret for both cloaks: the same run must then publish the same counts on each.
  pinNoiseSecret(dir, 0x2a);
  const cloak = await openCloak(
    buildConfig({
      dataDir: dir,
      cloak: { sandboxProcesses: 2, idleSandboxSeconds },
      privacy: { releaseSchedule: false },
    }),
  );
  for (const org of ['org-a', 'org-b']) {
    await cloak.data.createTable(org, { name: 't', columns: [{ name: 'n', type: 'integer' }] });
    const rows: Record<string, unknown> = {};
    for (let u = 0; u < 600; u++) rows[`u${u}`] = { t: [{ n: u }] };
    await cloak.data.insert(org, rows);
  }
  return cloak;
}

describe('sandbox processes between runs', () => {
  const dirs: string[] = [];
  let reusing: Cloak;
  let fresh: Cloak;

  beforeAll(async () => {
    dirs.push(mkdtempSync(path.join(os.tmpdir(), 'opencloak-reuse-')));
    dirs.push(mkdtempSync(path.join(os.tmpdir(), 'opencloak-reuse-')));
    reusing = await filled(dirs[0]!, 60);
    fresh = await filled(dirs[1]!, 0);
  });
  afterAll(async () => {
    await Promise.all([reusing?.close(), fresh?.close()]);
    for (const dir of dirs) rmSync(dir, { recursive: true, force: true });
  });

  it("serves an organisation's next run from the last run's idle processes, with the same bytes", async () => {
    // A rerun publishes the same buckets (sticky noise, free under the budget); only the budget
    // notice, numbered per run, differs.
    const first = await reusing.runner.run('org-a', TASK);
    const kept = reusing.sandboxProcesses.pids();
    expect(kept.length).toBeGreaterThan(0);
    const second = await reusing.runner.run('org-a', TASK);
    expect(JSON.stringify(second.buckets)).toBe(JSON.stringify(first.buckets));
    // Every process the second run used was one of the first run's.
    expect(reusing.sandboxProcesses.pids().sort()).toEqual([...kept].sort());
    expect(liveSandboxProcesses().sort()).toEqual([...kept].sort());
  });

  it("never serves another organisation's run from them", async () => {
    const before = reusing.sandboxProcesses.pids();
    await reusing.runner.run('org-b', { ...TASK, code: TASK.code.replace('% 3', '% 4') });
    const after = reusing.sandboxProcesses.pids();
    // At most two kept (cloak.sandboxProcesses): org-b's newest, and none of them served org-b
    // having been org-a's.
    expect(after.length).toBeLessThanOrEqual(2);
    const ofB = after.filter((pid) => !before.includes(pid));
    expect(ofB.length).toBeGreaterThan(0);
  });

  it('keeps none with idleSandboxSeconds 0, and the answers are those of a cloak that keeps them', async () => {
    const a = await fresh.runner.run('org-a', TASK);
    expect(fresh.sandboxProcesses.pids()).toEqual([]);
    expect(
      liveSandboxProcesses().filter((pid) => !reusing.sandboxProcesses.pids().includes(pid)),
    ).toEqual([]);
    // Same data, same secret, processes kept or not: the same buckets and counts.
    const b = await reusing.runner.run('org-a', TASK);
    expect(a.buckets.length).toBe(3);
    expect(a.buckets).toEqual(b.buckets);
  });

  it('ends the idle processes when the cloak closes', async () => {
    const kept = reusing.sandboxProcesses.pids();
    expect(kept.length).toBeGreaterThan(0);
    await reusing.close();
    expect(liveSandboxProcesses()).toEqual([]);
  });
});
