// Scenario: the web REST API's results endpoint under keep-alive load vs a bare HTTPS server with the same bytes.
import { execFile } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import https from 'node:https';
import type { AddressInfo } from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import { buildConfig, type ConfigInput } from '../../src/config/index.ts';
import {
  startPlatform,
  type RunningPlatform,
  type StartOptions,
} from '../../src/platform/index.ts';
import type { Scenario } from '../harness.ts';

export const CONNECTIONS = 64;
const PASSWORD = 'bench';
const CLIENT = path.join(path.dirname(fileURLToPath(import.meta.url)), '../load-client.ts');

/** An installation with one task and ten published results: the page a client would fetch. */
export async function installation(
  dir: string,
  config: ConfigInput = {},
  start: StartOptions = {},
) {
  const platform = await startPlatform(
    buildConfig({ ...config, dataDir: dir, web: { port: 0 }, cloak: { port: 0 } }),
    start,
  );
  const org = await platform.air.organisations.create('bench');
  const task = await platform.air.tasks.create(org.id, {
    name: 't',
    type: 'batch',
    code: '',
    prefetch: [],
  });
  for (let i = 0; i < 10; i++) {
    const buckets = Array.from({ length: 20 }, (_, b) => ({
      label: 'height',
      value: String(140 + b * 5),
      count: 100 + b * 10,
    }));
    await platform.air.results.publish(
      task.id,
      1,
      { buckets, exceptions: [] },
      1_767_225_600_000 + i,
    );
  }
  const key = await platform.keys.create(org.id, {
    type: 'web_api',
    description: 'bench',
    password: PASSWORD,
  });
  writeFileSync(path.join(dir, 'key.pfx'), key.pfx);
  writeFileSync(path.join(dir, 'ca.crt'), platform.pki.ca.certPem);
  return { platform, path: `/api/task_results/${task.id}?page=1&per_page=10` };
}

export async function load(url: string, dir: string, seconds: number) {
  const { stdout } = await promisify(execFile)(
    process.execPath,
    [
      '--import',
      'tsx',
      CLIENT,
      JSON.stringify({
        url,
        pfx: path.join(dir, 'key.pfx'),
        passphrase: PASSWORD,
        ca: path.join(dir, 'ca.crt'),
        connections: CONNECTIONS,
        seconds,
      }),
    ],
    { maxBuffer: 1024 * 1024 },
  );
  return JSON.parse(stdout) as {
    rps: number;
    p50: number;
    p99: number;
    errors: number;
    requests: number;
  };
}

export function result(measured: Awaited<ReturnType<typeof load>>) {
  if (measured.errors > 0) throw new Error(`${measured.errors} requests failed`);
  return {
    value: measured.rps,
    unit: 'req/s',
    notes: {
      p50ms: Number(measured.p50.toFixed(2)),
      p99ms: Number(measured.p99.toFixed(2)),
      requests: measured.requests,
    },
  };
}

export const resultsApiScenario: Scenario = {
  name: 'results-api',
  description: `GET /api/task_results with ${CONNECTIONS} keep-alive client-certificate connections vs a bare HTTPS server sending the same bytes`,
  better: 'higher',
  targetRatio: 0.7,
  sides: {
    async figure(size) {
      const dir = mkdtempSync(path.join(os.tmpdir(), 'opencloak-bench-'));
      let platform: RunningPlatform | undefined;
      try {
        const inst = await installation(dir);
        platform = inst.platform;
        return result(await load(`${platform.webUrl}${inst.path}`, dir, size === 'full' ? 10 : 3));
      } finally {
        await platform?.stop();
        rmSync(dir, { recursive: true, force: true });
      }
    },
    async baseline(size) {
      const dir = mkdtempSync(path.join(os.tmpdir(), 'opencloak-bench-'));
      const inst = await installation(dir);
      const bare = await bareHttps(inst.platform, inst.path, dir);
      await inst.platform.stop();
      try {
        return result(await load(bare.url, dir, size === 'full' ? 10 : 3));
      } finally {
        bare.close();
        rmSync(dir, { recursive: true, force: true });
      }
    },
  },
};

/**
 * A bare Node HTTPS server with the same TLS material and client-certificate handshake, sending
 * the bytes the real endpoint answers `urlPath` with, and none of the API's work.
 */
export async function bareHttps(platform: RunningPlatform, urlPath: string, dir: string) {
  const bytes = Buffer.from(await fetchOnce(platform, urlPath, dir));
  const server = https.createServer(
    {
      key: platform.pki.server.keyPem,
      cert: platform.pki.server.certPem,
      ca: [platform.pki.ca.certPem],
      requestCert: true,
      rejectUnauthorized: false,
    },
    (_req, res) => {
      res.writeHead(200, {
        'content-type': 'application/json; charset=utf-8',
        'content-length': bytes.length,
      });
      res.end(bytes);
    },
  );
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  return {
    url: `https://127.0.0.1:${port}${urlPath}`,
    close() {
      server.closeAllConnections();
      server.close();
    },
  };
}

/** The exact bytes the real endpoint returns, so the baseline sends the same payload. */
export function fetchOnce(
  platform: RunningPlatform,
  urlPath: string,
  dir: string,
): Promise<string> {
  return new Promise((resolve, reject) => {
    https
      .get(
        `${platform.webUrl}${urlPath}`,
        {
          pfx: readFileSync(path.join(dir, 'key.pfx')),
          passphrase: PASSWORD,
          ca: platform.pki.ca.certPem,
        },
        (res) => {
          const chunks: Buffer[] = [];
          res.on('data', (c: Buffer) => chunks.push(c));
          res.on('end', () =>
            res.statusCode === 200
              ? resolve(Buffer.concat(chunks).toString('utf8'))
              : reject(new Error(`results endpoint answered ${res.statusCode}`)),
          );
        },
      )
      .on('error', reject);
  });
}
