// The opencloak command line: from an empty data directory to a published result, as a data owner would type it.
import { execFileSync, spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { countNoiseSd, DEFAULT_ANONYMIZER_SETTINGS } from '../../src/anonymizer/index.ts';

const BIN = path.resolve(import.meta.dirname, '../../bin/opencloak.mjs');

/**
 * Each command is a process that compiles TypeScript at start: seconds on a quiet machine, 20 s
 * and more at load 30, where several commands overran the 60 s default. A guard, not a measure.
 */
const COMMANDS_TIMEOUT_MS = 600_000;

describe('opencloak CLI', { timeout: COMMANDS_TIMEOUT_MS }, () => {
  const dir = mkdtempSync(path.join(os.tmpdir(), 'opencloak-cli-'));
  const dataDir = path.join(dir, 'data');
  afterAll(() => rmSync(dir, { recursive: true, force: true }));

  const cli = (...args: string[]) =>
    execFileSync(process.execPath, [BIN, '--data-dir', dataDir, ...args], {
      encoding: 'utf8',
      stdio: ['ignore', 'pipe', 'pipe'],
      cwd: dir,
    });
  const cliJson = (...args: string[]) => JSON.parse(cli('--json', ...args));
  const cliFailure = (...args: string[]) => {
    try {
      cli(...args);
    } catch (error) {
      return error as { stderr: string; status: number };
    }
    throw new Error('expected the command to fail');
  };

  it('creates an organisation, an analyst and keys as .pfx and .pem that open with openssl', () => {
    expect(cliJson('org', 'create', 'Acme').name).toBe('Acme');
    expect(
      cliJson('analyst', 'create', '--org', 'Acme', '--email', 'ada@acme.test', '--name', 'Ada')
        .email,
    ).toBe('ada@acme.test');
    const key = cliJson(
      'key',
      'create',
      '--org',
      'Acme',
      '--type',
      'web_api',
      '--description',
      'reporting',
      '--password',
      'secret1',
      '--out',
      dir,
    );
    expect(key.type).toBe('web_api');
    const info = execFileSync(
      'openssl',
      ['pkcs12', '-in', key.pfx, '-passin', 'pass:secret1', '-nokeys', '-clcerts'],
      { encoding: 'utf8' },
    );
    expect(info).toContain('BEGIN CERTIFICATE');
    const pem = execFileSync(
      'openssl',
      ['pkey', '-in', key.pem, '-passin', 'pass:secret1', '-noout'],
      { encoding: 'utf8' },
    );
    expect(pem).toBe('');
    expect(cliJson('key', 'list', '--org', 'Acme')).toHaveLength(1);
  });

  it('issues a key --for a person only of a type their role allows, and audits the refusal', () => {
    const forAda = (type: string) => [
      'key',
      'create',
      '--org',
      'Acme',
      '--for',
      'ada@acme.test',
      '--type',
      type,
      '--description',
      'for Ada',
      '--password',
      'secret1',
      '--out',
      dir,
    ];
    const refused = cliFailure(...forAda('upload_any'));
    expect(refused.status).toBe(2);
    // The role is Ada's, not the operator's: the message names her and what would fix it.
    expect(refused.stderr).toContain("ada@acme.test's role (analyst) may not hold upload_any keys");
    expect(refused.stderr).toContain('opencloak analyst set-role ada@acme.test --role <role>');
    const ada = cliJson('analyst', 'set-role', 'ada@acme.test', '--role', 'data_owner');
    expect(ada.role).toBe('data_owner');
    expect(cliJson(...forAda('upload_any')).type).toBe('upload_any');

    const audit = cliJson('audit', '--org', 'Acme') as Array<{
      event: string;
      actor: string;
      detail: Record<string, string>;
    }>;
    expect(audit.slice(0, 4).map((e) => `${e.event} ${e.actor}`)).toEqual([
      `key.downloaded cli for analyst:${ada.id}`,
      `key.created cli for analyst:${ada.id}`,
      'role.changed cli',
      `key.refused cli for analyst:${ada.id}`,
    ]);
    expect(audit[3]!.detail).toEqual({ type: 'upload_any', role: 'analyst' });
  });

  it('refuses a key password shorter than 4 characters with a clear message', () => {
    const failure = cliFailure(
      'key',
      'create',
      '--org',
      'Acme',
      '--type',
      'admin',
      '--description',
      'x',
      '--password',
      'abc',
    );
    expect(failure.status).toBe(2);
    expect(failure.stderr).toContain('at least 4 characters');
  });

  it('creates a table, uploads a JSON file, creates and runs a task and prints its results', () => {
    cliJson('table', 'create', '--org', 'Acme', 'people', 'age:integer', 'city:varchar(32)');
    const data: Record<string, unknown> = {};
    // 100 users: enough for the bucket to be published (its noisy count must reach 43).
    for (let i = 0; i < 100; i++) data[`p${i}`] = { people: [{ age: 20 + (i % 3), city: 'Oslo' }] };
    writeFileSync(path.join(dir, 'people.json'), JSON.stringify(data));
    expect(cliJson('upload', '--org', 'Acme', path.join(dir, 'people.json'))).toMatchObject({
      success: true,
      rows: 100,
    });
    // JSON keeps the last of two equal keys: the first list of rows would be lost without a word.
    const twice = path.join(dir, 'twice.json');
    writeFileSync(twice, '{"q1":{"people":[{"age":1}],"people":[{"age":2}]}}');
    const refused = cliFailure('upload', '--org', 'Acme', twice);
    expect(refused.status).toBe(2);
    expect(refused.stderr).toContain('User "q1", table "people" occurs twice');
    writeFileSync(path.join(dir, 'task.js'), 'report_property("city", tables.people[0].city);');
    const task = cliJson(
      'task',
      'create',
      '--org',
      'Acme',
      '--name',
      'cities',
      '--code-file',
      path.join(dir, 'task.js'),
      '--prefetch',
      '[{"table":"people"}]',
    );
    expect(task.token).toMatch(/^[a-z]/);
    const run = cliJson('task', 'run', task.token, '--org', 'Acme');
    expect(run.buckets).toHaveLength(1);
    expect(run.buckets[0].name).toBe('city: Oslo');
    // The CLI's installation draws its own noise secret, so this count differs from run to run:
    // 4 sd of its noise (sd 14 at 100 users; a miss once in 15,000 runs) and half a rounding
    // step of 20. The former bound, 3 sd of sd 10 and half of 10, failed once in about 30 runs.
    const sd = countNoiseSd(100, DEFAULT_ANONYMIZER_SETTINGS);
    expect(Math.abs(run.buckets[0].value - 100)).toBeLessThanOrEqual(4 * sd + 10);
    const shown = spawnSync(
      process.execPath,
      [BIN, '--data-dir', dataDir, '--json', 'task', 'run', task.token, '--org', 'Acme'],
      { encoding: 'utf8', cwd: dir },
    );
    // Not a terminal here, so the progress is a line per tenth, ending at the answer; under it,
    // what the run says about the participation budget (also in the JSON, as `budget`).
    const lines = shown.stderr.trim().split('\n');
    expect(lines.at(-2)).toMatch(/^\[#{30}\] 100%$/);
    expect(lines.length).toBeGreaterThan(2);
    const rerun = JSON.parse(shown.stdout);
    expect(rerun.budget).toMatchObject({ may_be_low: false, period_run: 2 });
    expect(lines.at(-1)).toBe(`participation budget: ${rerun.budget.message}`);
    expect(lines.at(-1)).toMatch(/Too few users left out by the participation budget to show/);
    const results = cliJson('task', 'results', String(task.id), '--org', 'Acme');
    expect(results.count).toBe(2);
    expect(results.items[0].buckets).toEqual(run.buckets);

    // An operator can see the organisation's release schedule and start it again.
    const schedule = cliJson('org', 'release-schedule', 'Acme');
    expect(schedule).toMatchObject({ organisation: 'Acme', max_epoch: 17 });
    expect(schedule.first_slot_ms).toBe(250 * 2 ** schedule.epoch);
    expect(cliJson('org', 'release-schedule', 'Acme', '--reset')).toMatchObject({
      epoch: 0,
      first_slot_ms: 250,
    });
  });

  it('previews a task’s cost without spending, and shows the budget with every notice so far', () => {
    const task = cliJson(
      'task',
      'create',
      '--org',
      'Acme',
      '--name',
      'towns',
      '--code',
      'report_property("town", tables.people[0].city);',
      '--prefetch',
      '[{"table":"people"}]',
    );
    const shown = spawnSync(
      process.execPath,
      [BIN, '--data-dir', dataDir, '--json', 'task', 'preview', task.token, '--org', 'Acme'],
      { encoding: 'utf8', cwd: dir },
    );
    expect(shown.status, shown.stderr).toBe(0);
    const preview = JSON.parse(shown.stdout);
    // The two runs of "cities" took notices 1 and 2.
    expect(preview).toMatchObject({ budgeted: true, period_run: 3, noise_sd: 50 });
    expect(shown.stdout).not.toContain('Oslo');
    expect(shown.stderr.trim()).toBe(`participation budget: ${preview.message}`);
    expect(cliJson('task', 'results', task.token, '--org', 'Acme').count).toBe(0);

    const budget = cliJson('budget', '--org', 'Acme', '--limit', '2');
    expect(budget).toMatchObject({ enabled: true, rho: 0.02, runs_this_period: 3 });
    expect(budget.disclosures.map((d: { kind: string }) => d.kind)).toEqual(['preview', 'run']);
    const { budgeted: _, ...notice } = preview;
    expect(budget.disclosures[0]).toMatchObject(notice);

    const refused = cliFailure('budget', '--org', 'Acme', '--limit', '0');
    expect(refused.status).toBe(2);
    expect(refused.stderr).toContain('--limit must be a whole number from 1 to 100');
  });

  it('explains an unknown table in a task prefetch', () => {
    const failure = cliFailure(
      'task',
      'create',
      '--org',
      'Acme',
      '--name',
      'bad',
      '--code',
      'report_property("a", 1)',
      '--prefetch',
      '[{"table":"peeple"}]',
    );
    expect(failure.stderr).toContain('"peeple"');
    expect(failure.stderr).toContain('people');
  });
});
