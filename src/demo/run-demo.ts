// The one-command demo: a fresh installation, 10,000 synthetic users uploaded over HTTPS, example
// tasks run, and the exact curl command that fetches their results.
import { existsSync, mkdirSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { loadConfig } from '../config/index.ts';
import { lockDataDir, startPlatform, type RunningPlatform } from '../platform/index.ts';
import { DEMO_TASKS } from './demo-tasks.ts';
import { postJson, keepAliveAgent } from './https-upload.ts';
import { DEMO_TABLES, syntheticBatches } from './synthetic-data.ts';

export interface DemoOptions {
  dataDir: string;
  users: number;
  webPort: number;
  cloakPort: number;
  password: string;
  log: (line: string) => void;
}

const MARKER = '.opencloak-demo';

/** Only a directory the demo made itself (or an empty one) is wiped, never an operator's data. */
function freshDemoDir(dir: string): void {
  if (existsSync(dir) && readdirSync(dir).length > 0) {
    if (!existsSync(path.join(dir, MARKER))) {
      throw new Error(`${dir} exists and was not made by the demo; choose another --data-dir.`);
    }
    // Not from under a demo that still runs: this throws DATA_DIR_IN_USE, naming its process.
    lockDataDir(dir, 'demo').release();
    rmSync(dir, { recursive: true, force: true });
  }
  mkdirSync(dir, { recursive: true, mode: 0o700 });
  writeFileSync(
    path.join(dir, MARKER),
    'This directory was made by `opencloak demo`; the demo wipes it on its next run.\n',
  );
}

export async function runDemo(
  options: DemoOptions,
): Promise<RunningPlatform & { curl: string; resultsUrl: string }> {
  const { log } = options;
  const dataDir = path.resolve(options.dataDir);
  freshDemoDir(dataDir);
  const config = loadConfig(undefined, {
    dataDir,
    web: { port: options.webPort },
    cloak: { port: options.cloakPort },
  });
  const platform = await startPlatform(config);
  try {
    const org = platform.air.organisations.create('Demo Org');
    platform.air.organisations.addAnalyst(org.id, 'analyst@demo.example', 'Demo Analyst');
    const keysDir = path.join(dataDir, 'keys');
    mkdirSync(keysDir, { recursive: true, mode: 0o700 });
    const issue = (type: 'web_api' | 'upload_any', file: string) => {
      const issued = platform.keys.create(org.id, {
        type,
        description: `demo ${type} key`,
        password: options.password,
      });
      writeFileSync(path.join(keysDir, `${file}.pfx`), issued.pfx, { mode: 0o600 });
      writeFileSync(path.join(keysDir, `${file}.pem`), issued.pem, { mode: 0o600 });
      return issued;
    };
    issue('web_api', 'web-api');
    const upload = issue('upload_any', 'upload');
    for (const table of DEMO_TABLES) platform.cloak.data.createTable(org.id, table);

    log(
      `Uploading ${options.users} synthetic users over HTTPS (POST ${platform.cloakUrl}/bulk_insert)...`,
    );
    const key = {
      pfx: upload.pfx,
      passphrase: options.password,
      caCertPem: platform.pki.ca.certPem,
    };
    const agent = keepAliveAgent(key);
    const started = Date.now();
    for (const batch of syntheticBatches(options.users, 500)) {
      await postJson(`${platform.cloakUrl}/bulk_insert`, batch, key, agent);
    }
    agent.destroy();
    log(`  done in ${((Date.now() - started) / 1000).toFixed(1)} s.`);

    let firstTaskId = 0;
    for (const demoTask of DEMO_TASKS) {
      const task = platform.tasks.create(org.id, { ...demoTask, type: 'batch' });
      firstTaskId ||= task.id;
      const runStarted = Date.now();
      const result = await platform.tasks.runBatch(org.id, task.token);
      log(
        `\nTask ${task.id} "${task.name}" (token ${task.token}), ran in ${Date.now() - runStarted} ms:`,
      );
      for (const b of result.buckets) log(`  ${b.label}: ${b.value}  ->  ${b.count} users`);
      for (const e of result.exceptions) log(`  exception "${e.error}"  ->  ${e.count} users`);
    }

    const pfx = path.relative(process.cwd(), path.join(keysDir, 'web-api.pfx'));
    const ca = path.relative(process.cwd(), platform.pki.caCertPath);
    const resultsUrl = `${platform.webUrl}/api/task_results/${firstTaskId}?page=1&per_page=10`;
    const curl = `curl --cert-type P12 --cert ${pfx}:${options.password} --cacert ${ca} '${resultsUrl}'`;
    log(
      `\nThe web REST API is at ${platform.webUrl}. Fetch the first task's results with:\n\n  ${curl}\n`,
    );
    return { ...platform, curl, resultsUrl };
  } catch (error) {
    await platform.stop();
    throw error;
  }
}
