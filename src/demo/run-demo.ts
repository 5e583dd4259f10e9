// The one-command demo: a fresh installation, 10,000 synthetic users uploaded over HTTPS, example
// tasks run over the web REST API, the exact curl command that fetches their results, and a
// site login to see them in a browser.
import { existsSync, mkdirSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { cloakApiClient, webApiClient, type ClientKey } from '../api-client/index.ts';
import { loadConfig } from '../config/index.ts';
import {
  lockDataDir,
  setLoginPassword,
  startPlatform,
  type RunningPlatform,
} from '../platform/index.ts';
import { DEMO_TASKS } from './demo-tasks.ts';
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

/** The analyst the demo creates, who can log in to the site with the demo's password. */
export const DEMO_ANALYST = 'analyst@demo.example';

/** `*: *` is the suppression bucket, which nothing else in the output explains. */
const starNote = (name: string) =>
  name === '*: *' ? '  (the users of buckets too small to publish, together)' : '';

/** The answer's data, or an error naming the request and what the server said. */
function answered<T>(what: string, answer: { data?: T; error?: { error: string } }): T {
  if (answer.data === undefined) throw new Error(`${what}: ${answer.error?.error ?? 'no answer'}`);
  return answer.data;
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
    const org = await platform.air.organisations.create('Demo Org');
    const analyst = await platform.air.organisations.addAnalyst(
      org.id,
      DEMO_ANALYST,
      'Demo Analyst',
    );
    await setLoginPassword(platform.air, analyst.id, options.password);
    const keysDir = path.join(dataDir, 'keys');
    mkdirSync(keysDir, { recursive: true, mode: 0o700 });
    const issue = async (type: 'web_api' | 'upload_any', file: string) => {
      const issued = await platform.keys.create(org.id, {
        type,
        description: `demo ${type} key`,
        password: options.password,
      });
      writeFileSync(path.join(keysDir, `${file}.pfx`), issued.pfx, { mode: 0o600 });
      writeFileSync(path.join(keysDir, `${file}.pem`), issued.pem, { mode: 0o600 });
      return issued;
    };
    const keyOf = (issued: { pfx: Buffer }): ClientKey => ({
      pfx: issued.pfx,
      passphrase: options.password,
      caCertPem: platform.pki.ca.certPem,
    });
    const webApi = webApiClient(platform.webUrl, keyOf(await issue('web_api', 'web-api')));
    const cloakApi = cloakApiClient(platform.cloakUrl, keyOf(await issue('upload_any', 'upload')));
    for (const table of DEMO_TABLES) await platform.cloak.data.createTable(org.id, table);

    log(
      `Uploading ${options.users} synthetic users over HTTPS (POST ${platform.cloakUrl}/bulk_insert)...`,
    );
    const started = Date.now();
    for (const batch of syntheticBatches(options.users, 500)) {
      answered('POST /bulk_insert', await cloakApi.POST('/bulk_insert', { body: batch }));
    }
    await cloakApi.close();
    log(`  done in ${((Date.now() - started) / 1000).toFixed(1)} s.`);

    // As an analyst would: create and run each task over the web REST API with the web_api key.
    let firstTaskId = 0;
    for (const demoTask of DEMO_TASKS) {
      // PrefetchSpec is an interface; the API takes any object per table and checks it itself.
      const prefetch = demoTask.prefetch as unknown as Array<Record<string, unknown>>;
      const body = { ...demoTask, prefetch, type: 'batch' as const };
      const { task } = answered('POST /api/tasks', await webApi.POST('/api/tasks', { body }));
      firstTaskId ||= task.id;
      const runStarted = Date.now();
      const path = { token: task.token };
      const run = await webApi.POST('/api/tasks/{token}/run', { params: { path }, body: {} });
      const ran = answered(`POST /api/tasks/${task.token}/run`, run);
      // 202 is the answer to {"wait": false} only; this run waits for its result.
      if (!('result' in ran)) throw new Error(`Task ${task.token} answered without its result.`);
      const { result } = ran;
      log(
        `\nTask ${task.id} "${task.name}" (token ${task.token}), ran in ${Date.now() - runStarted} ms:`,
      );
      for (const b of result.buckets) log(`  ${b.name}  ->  ${b.value} users${starNote(b.name)}`);
      for (const e of result.exceptions) log(`  exception "${e.error}"  ->  ${e.count} users`);
    }
    await webApi.close();

    const pfx = path.relative(process.cwd(), path.join(keysDir, 'web-api.pfx'));
    const ca = path.relative(process.cwd(), platform.pki.caCertPath);
    const resultsUrl = `${platform.webUrl}/api/task_results/${firstTaskId}?page=1&per_page=10`;
    const curl = `curl --cert-type P12 --cert ${pfx}:${options.password} --cacert ${ca} '${resultsUrl}'`;
    log(
      `\nThe web REST API is at ${platform.webUrl}. Fetch the first task's results with:\n\n  ${curl}\n`,
    );
    log(
      `See them in a browser: open ${platform.webUrl}/ (accept the installation's own certificate, ` +
        `or import ${ca}) and log in as ${DEMO_ANALYST} with the password ${options.password}.\n`,
    );
    return { ...platform, curl, resultsUrl };
  } catch (error) {
    await platform.stop();
    throw error;
  }
}
