// One suite for every CloakPort: the in-process port and the remote port over the cloak API's /service routes.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { CloakPort } from '../../src/air/index.ts';
import { AppError } from '../../src/errors/index.ts';
import { createServiceKey, readServiceKeyFile } from '../../src/platform/index.ts';
import { remoteCloakPort, type RemoteCloakPort } from '../../src/platform/remote-cloak-port.ts';
import { startTestInstallation, type TestInstallation } from '../support/installation.ts';
import { until } from '../support/until.ts';
import { mkdtempSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';

const USERS = 250;
const COUNT_TASK = {
  code: 'report_property("colour", tables.t[0].colour)',
  prefetch: [{ table: 't' }],
};

let inst: TestInstallation;
let remote: RemoteCloakPort;

beforeAll(async () => {
  inst = await startTestInstallation({ privacy: { participationRho: 10 } });
  const { pem } = createServiceKey(inst.dataDir, inst.platform.pki.ca, {
    description: 'contract test',
    validDays: 1,
  });
  // Read back from a file, as `opencloak start --air-only --service-key` does.
  const file = path.join(mkdtempSync(path.join(os.tmpdir(), 'opencloak-port-')), 'air.pem');
  writeFileSync(file, pem, { mode: 0o600 });
  remote = remoteCloakPort(inst.platform.cloakUrl, readServiceKeyFile(file));
}, 60_000);

afterAll(async () => {
  await remote.close();
  await inst.stop();
});

/** The AppError code a call fails with (the remote port raises the cloak's own). */
async function codeOf(call: Promise<unknown>): Promise<string> {
  return (await refusal(call)).code;
}

async function refusal(call: Promise<unknown>): Promise<AppError> {
  const error = await call.then(
    () => undefined,
    (e: unknown) => e,
  );
  expect(error).toBeInstanceOf(AppError);
  return error as AppError;
}

const implementations: Array<[string, () => CloakPort]> = [
  ['in-process', () => inst.platform.cloakPort],
  ['remote (cloak API /service)', () => remote],
];

describe.each(implementations)('CloakPort: %s', (name, portOf) => {
  let orgId: string;
  let port: CloakPort;

  beforeAll(async () => {
    port = portOf();
    orgId = await inst.createOrg(`Contract ${name.replace(/[^A-Za-z0-9]+/g, '-')}`);
    await port.defineTable(orgId, { name: 't', columns: [{ name: 'colour', type: 'text' }] });
    const rows = Object.fromEntries(
      Array.from({ length: USERS }, (_, i) => [
        `u${i}`,
        { t: [{ colour: i < 150 ? 'red' : 'blue' }] },
      ]),
    );
    await inst.platform.cloak.data.insert(orgId, rows);
  });

  it('defines, lists, alters and drops tables; an unknown one is refused', async () => {
    const defined = await port.defineTable(orgId, {
      name: 'extra',
      columns: [{ name: 'a', type: 'integer' }],
    });
    expect(defined).toMatchObject({ name: 'extra', version: 1 });
    const altered = await port.alterTable(orgId, 'extra', { add: [{ name: 'b', type: 'text' }] });
    expect(altered.columns.map((c) => c.name)).toEqual(['a', 'b']);
    expect((await port.listTables(orgId)).map((t) => t.name).sort()).toEqual(['extra', 't']);
    await port.dropTable(orgId, 'extra');
    expect((await port.listTables(orgId)).map((t) => t.name)).toEqual(['t']);
    const unknown = await refusal(
      port.alterTable(orgId, 'nowhere', { add: [{ name: 'c', type: 'text' }] }),
    );
    expect(unknown.status).toBe(422);
    expect(unknown.message).toMatch(/nowhere/);
  });

  it('validates a task, and refuses one that selects an unknown table', async () => {
    const checked = await port.validateTask(orgId, COUNT_TASK);
    expect(checked.prefetch).toEqual([{ table: 't' }]);
    const error = await refusal(
      port.validateTask(orgId, { code: COUNT_TASK.code, prefetch: [{ table: 'nowhere' }] }),
    );
    expect([error.code, error.status]).toEqual(['UNKNOWN_TABLE', 422]);
    expect(error.message).toMatch(/nowhere/);
  });

  it('runs a task to its anonymized result, charged to the budget', async () => {
    await port.checkRunCap(orgId);
    const result = await port.runTask(orgId, COUNT_TASK);
    expect(result.buckets.map((b) => b.value).sort()).toEqual(['blue', 'red']);
    expect(result.budget).toMatchObject({ period_run: 1 });
    const trusted = await port.runTask(orgId, COUNT_TASK, {}, 'trusted');
    expect(trusted.budget).toBeUndefined();
    // The same buckets; their counts may differ, as a trusted run gets the finer uncharged noise.
    const valuesOf = (r: typeof result) => r.buckets.map((b) => `${b.label}=${b.value}`).sort();
    expect(valuesOf(trusted)).toEqual(valuesOf(result));
  });

  it('previews a run and shows the budget state', async () => {
    const preview = await port.previewTask(orgId, COUNT_TASK);
    expect(preview).toMatchObject({ budgeted: true, period_run: 2 });
    const state = await port.budgetState(orgId, 5);
    expect(state?.runs_this_period).toBe(2);
    expect(state?.disclosures.map((d) => d.kind)).toEqual(['preview', 'run']);
  });

  it('stops cancelled runs in the cloak, which then publish nothing and free the cap', async () => {
    const slow = {
      code: 'let x = 0; for (let i = 0; i < 5e7; i++) x += i; report_property("x", 1)',
      prefetch: [{ table: 't' }],
    };
    const capFree = () =>
      port.checkRunCap(orgId).then(
        () => true,
        () => false,
      );
    // The organisation's cap is two runs: both slow runs hold it until the cloak stops them.
    const controllers = [new AbortController(), new AbortController()];
    const runs = controllers.map((c) => port.runTask(orgId, slow, { signal: c.signal }));
    await until(capFree, (free) => !free);
    expect(await codeOf(port.checkRunCap(orgId))).toBe('TOO_MANY_RUNS');
    for (const c of controllers) c.abort();
    for (const run of runs) expect(await codeOf(run)).toBe('TASK_RUN_CANCELLED');
    // Left running, 250 users of a second's work each would hold the cap for minutes.
    await until(capFree, (free) => free);
  });

  it('tries a task on made-up users only', async () => {
    const outcomes = await port.tryTask(orgId, COUNT_TASK, [
      { id: 'a', tables: { t: [{ colour: 'green' }] } },
      { id: 'b', tables: { t: [] } },
    ]);
    expect(outcomes[0]).toEqual({ id: 'a', ok: true, properties: [['colour', 'green']] });
    expect(outcomes[1]).toMatchObject({ id: 'b', ok: false });
  });

  it('counts users per table, anonymized', async () => {
    const [counts] = await port.userCounts(orgId);
    expect(counts?.table).toBe('t');
    expect(Math.abs((counts?.users ?? 0) - USERS)).toBeLessThanOrEqual(30);
  });

  it('runs a streaming task and reports it; a stopped one is gone', async () => {
    await port.setStreamingTask(orgId, `stream-${name}`, COUNT_TASK);
    await inst.platform.cloak.streaming.process();
    const report = await port.streamingReport(orgId, `stream-${name}`, 3600);
    expect(report.buckets.map((b) => b.value).sort()).toEqual(['blue', 'red']);
    await port.setStreamingTask(orgId, `stream-${name}`, null);
    await expect(port.streamingReport(orgId, `stream-${name}`, 3600)).rejects.toThrow();
  });
});
