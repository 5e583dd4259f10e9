// The air and the cloak as two processes over real TLS give the same published result as the embedded default.
import { spawn, type ChildProcess } from 'node:child_process';
import { cpSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { hashPassword } from '../../src/air/auth/password-hash.ts';
import { buildConfig } from '../../src/config/index.ts';
import { createServiceKey, openPlatform, startPlatform } from '../../src/platform/index.ts';
import type { KeyType } from '../../src/shared/index.ts';
import { request, type TestKey } from '../support/https-client.ts';
import { cliCommand, exited } from '../support/server-process.ts';

const USERS = 450;
const KEY_PASSWORD = 'test-password';
const TABLE = { name: 'people', columns: [{ name: 'city', type: 'varchar(20)' }] };
const TASK = {
  name: 'cities',
  type: 'batch',
  prefetch: [{ table: 'people' }],
  code: 'for (const p of tables.people) report_property("city", p.city);',
};
const CITIES = ['Berlin', 'Paris', 'Rome'];
const ANALYST = { email: 'ada@example.org', password: 'correct horse' };

/** The same rows for both modes: user i lives in one of three cities, 150 users each. */
function uploadBody(): Record<string, unknown> {
  const body: Record<string, unknown> = {};
  for (let i = 0; i < USERS; i++) body[`u${i}`] = { people: [{ city: CITIES[i % 3] }] };
  return body;
}

interface Started {
  child: ChildProcess;
  url: string;
  output: () => string;
}

/** Runs `opencloak start` with `args`; resolves once it prints the address `pattern` finds. */
function startProcess(dataDir: string, args: string[], pattern: RegExp): Promise<Started> {
  const child = spawn(
    process.execPath,
    cliCommand(['--data-dir', dataDir, 'start', '--host', '127.0.0.1', ...args]),
    { stdio: ['ignore', 'pipe', 'pipe'] },
  );
  let output = '';
  return new Promise((resolve, reject) => {
    child.stdout?.on('data', (chunk: Buffer) => {
      output += chunk.toString('utf8');
      const found = pattern.exec(output);
      if (found) resolve({ child, url: found[1] as string, output: () => output });
    });
    child.stderr?.on('data', (chunk: Buffer) => (output += chunk.toString('utf8')));
    child.on('exit', (code, signal) =>
      reject(new Error(`opencloak start ${args.join(' ')} exited (${code ?? signal}):\n${output}`)),
    );
  });
}

async function stop(started: Started | undefined): Promise<void> {
  if (!started) return;
  const done = exited(started.child);
  started.child.kill('SIGTERM');
  await done;
}

/** A result as the seed's endpoint serves it, without the moment it was published. */
async function latestResult(webUrl: string, ca: string, key: TestKey, taskId: number) {
  const response = await request(`${webUrl}/api/task_results/${taskId}`, ca, { key });
  expect(response.status).toBe(200);
  const [item] = response.json.items;
  const { published_at: _published, ...rest } = item;
  return rest;
}

/** Creates and runs the task through the web REST API; answers the published result. */
async function runThroughWebApi(webUrl: string, ca: string, key: TestKey) {
  const created = await request(`${webUrl}/api/tasks`, ca, { body: TASK, key });
  expect(created.status, created.text).toBe(201);
  const { token, id } = created.json.task;
  const run = await request(`${webUrl}/api/tasks/${token}/run`, ca, { method: 'POST', key });
  expect(run.status, run.text).toBe(200);
  return latestResult(webUrl, ca, key, id);
}

/** The site's Tables page: each table's user count, anonymized, through a login session. */
async function siteUserCounts(webUrl: string, ca: string) {
  const login = await request(`${webUrl}/auth/login`, ca, { body: ANALYST });
  expect(login.status, login.text).toBe(200);
  const cookie = ([] as string[])
    .concat(login.headers['set-cookie'] ?? [])
    .find((c) => c.startsWith('oc_session='))!
    .split(';')[0]!;
  const counts = await request(`${webUrl}/api/site/tables/counts`, ca, { headers: { cookie } });
  expect(counts.status, counts.text).toBe(200);
  return counts.json.counts;
}

describe('the air on another host', () => {
  const root = mkdtempSync(path.join(os.tmpdir(), 'opencloak-split-'));
  const cloakDir = path.join(root, 'cloak');
  const airDir = path.join(root, 'air');
  const embeddedDir = path.join(root, 'embedded');
  const serviceKeyFile = path.join(root, 'air-service.pem');
  let ca: string;
  const keys: Partial<Record<KeyType, TestKey>> = {};
  let cloak: Started | undefined;
  let air: Started | undefined;

  beforeAll(async () => {
    // One installation (CA, organisation, keys, noise secret), then three data directories:
    // the cloak's, the air's (without cloak.db or the noise secret) and an embedded one.
    const setup = await openPlatform(buildConfig({ dataDir: cloakDir }));
    try {
      ca = setup.pki.ca.certPem;
      const orgId = (await setup.air.organisations.create('Acme')).id;
      for (const type of ['web_api', 'admin', 'upload_any', 'task_runner'] as const) {
        const issued = await setup.keys.create(orgId, {
          type,
          description: type,
          password: KEY_PASSWORD,
        });
        keys[type] = { pfx: issued.pfx, passphrase: KEY_PASSWORD };
      }
      const { pem } = createServiceKey(cloakDir, setup.pki.ca, {
        description: 'test air',
        validDays: 30,
      });
      writeFileSync(serviceKeyFile, pem, { mode: 0o600 });
      const analyst = await setup.air.organisations.addAnalyst(orgId, ANALYST.email, 'Ada');
      await setup.air.organisations.setPasswordHash(
        analyst.id,
        await hashPassword(ANALYST.password),
      );
    } finally {
      setup.close();
    }
    cpSync(cloakDir, embeddedDir, { recursive: true });
    cpSync(cloakDir, airDir, { recursive: true });
    for (const name of ['cloak.db', 'cloak.db-wal', 'cloak.db-shm', 'secrets']) {
      rmSync(path.join(airDir, name), { recursive: true, force: true });
    }

    cloak = await startProcess(
      cloakDir,
      ['--cloak-only', '--cloak-port', '0'],
      /cloak API:\s+(https:\/\/\S+)/,
    );
    air = await startProcess(
      airDir,
      ['--air-only', '--web-port', '0', '--cloak', cloak.url, '--service-key', serviceKeyFile],
      /web REST API:\s+(https:\/\/\S+)/,
    );
  }, 120_000);

  afterAll(async () => {
    await Promise.all([stop(air), stop(cloak)]);
    rmSync(root, { recursive: true, force: true });
  });

  it('publishes, through the air process, exactly what the embedded default publishes', async () => {
    const cloakUrl = cloak!.url;
    const table = await request(`${cloakUrl}/tables`, ca, { body: TABLE, key: keys.admin });
    expect(table.status, table.text).toBe(201);
    const upload = await request(`${cloakUrl}/bulk_insert`, ca, {
      body: uploadBody(),
      key: keys.upload_any,
    });
    expect(upload.status, upload.text).toBe(200);
    const split = await runThroughWebApi(air!.url, ca, keys.web_api!);
    const splitCounts = await siteUserCounts(air!.url, ca);

    const embedded = await startPlatform(
      buildConfig({ dataDir: embeddedDir, web: { port: 0 }, cloak: { port: 0 } }),
    );
    let alone: unknown;
    let aloneCounts: unknown;
    try {
      const cloakAlone = embedded.cloakUrl;
      expect(
        (await request(`${cloakAlone}/tables`, ca, { body: TABLE, key: keys.admin })).status,
      ).toBe(201);
      expect(
        (
          await request(`${cloakAlone}/bulk_insert`, ca, {
            body: uploadBody(),
            key: keys.upload_any,
          })
        ).status,
      ).toBe(200);
      alone = await runThroughWebApi(embedded.webUrl, ca, keys.web_api!);
      aloneCounts = await siteUserCounts(embedded.webUrl, ca);
    } finally {
      await embedded.stop();
    }

    // Published at all (150 users per city: threshold 72, 4.5 sd below), and byte for byte the same.
    expect(split.buckets.map((b: { name: string }) => b.name).sort()).toEqual(
      CITIES.map((c) => `city: ${c}`),
    );
    expect(JSON.stringify(split)).toBe(JSON.stringify(alone));
    // The site's user counts go through the port too (a trusted run of the cloak's own code).
    expect(splitCounts).toEqual([{ table: 'people', users: expect.any(Number) }]);
    expect(splitCounts).toEqual(aloneCounts);
  }, 120_000);

  it('answers a bad task from the cloak with the same 4xx the embedded default gives', async () => {
    const bad = await request(`${air!.url}/api/tasks`, ca, {
      body: { ...TASK, name: 'bad', prefetch: [{ table: 'nowhere' }] },
      key: keys.web_api,
    });
    expect(bad.status).toBe(422);
    expect(bad.json.error).toMatch(/nowhere/);
  });

  it('refuses an analyst key on the service routes with a 403 that names the service key', async () => {
    const refused = await request(`${cloak!.url}/service/run`, ca, {
      body: { org_id: 'any', spec: { code: '', prefetch: [] } },
      key: keys.task_runner,
    });
    expect(refused.status).toBe(403);
    expect(refused.json.error).toMatch(/air_service/);
    expect(refused.json.error).toMatch(/task_runner key may not use it/);
  });
});
