// The opencloak command prints text for people by default, one JSON document with --json, and exits with documented codes.
import { spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';

const BIN = path.resolve(import.meta.dirname, '../../bin/opencloak.mjs');

describe('opencloak output and exit codes (docs/cli.md)', () => {
  const dir = mkdtempSync(path.join(os.tmpdir(), 'opencloak-output-'));
  const dataDir = path.join(dir, 'data');
  afterAll(() => rmSync(dir, { recursive: true, force: true }));
  const cli = (...args: string[]) =>
    spawnSync(process.execPath, [BIN, '--data-dir', dataDir, ...args], { encoding: 'utf8' });

  it('refuses to read a data directory with no installation, and creates none', () => {
    const elsewhere = path.join(dir, 'mistyped');
    for (const args of [['org', 'list'], ['budget', '--org', 'Acme'], ['audit']]) {
      const refused = spawnSync(process.execPath, [BIN, '--data-dir', elsewhere, ...args], {
        encoding: 'utf8',
      });
      expect(refused.status, args.join(' ')).toBe(2);
      expect(refused.stderr).toContain(`There is no OpenCloak installation in ${elsewhere}`);
      expect(existsSync(elsewhere)).toBe(false);
    }
  });

  it('prints an answer as "name: value" lines, or as JSON with --json', () => {
    const text = cli('org', 'create', 'Acme');
    expect(text.status).toBe(0);
    // The first command in a new data directory says that it made an installation there.
    expect(text.stderr).toContain(`Created a new installation in ${dataDir}`);
    expect(cli('org', 'list').stderr).not.toContain('Created a new installation');
    expect(text.stdout).toMatch(/^id: +\w+\nname: +Acme\ncreatedAt: +\d{4}-\d\d-\d\dT/);
    const json = cli('--json', 'org', 'list');
    expect(json.status).toBe(0);
    expect(JSON.parse(json.stdout)).toEqual([expect.objectContaining({ name: 'Acme' })]);
    // --json is a global option: after the command it means the same.
    expect(JSON.parse(cli('org', 'list', '--json').stdout)).toEqual(JSON.parse(json.stdout));
  });

  it('prints a list as a table with a header line', () => {
    const listed = cli('org', 'list');
    const [header, row] = listed.stdout.trimEnd().split('\n');
    expect(header).toMatch(/^id +name +createdAt$/);
    expect(row).toMatch(/ Acme +\d{4}-/);
  });

  it('exits 2 for a refused request, with one line or a JSON error on stderr', () => {
    const refused = cli('org', 'create', 'Acme');
    expect(refused.status).toBe(2);
    expect(refused.stdout).toBe('');
    expect(refused.stderr).toMatch(/^error: An organisation named "Acme" already exists\./);
    const asJson = cli('--json', 'org', 'create', 'Acme');
    expect(asJson.status).toBe(2);
    expect(JSON.parse(asJson.stderr)).toMatchObject({ success: false, code: 'NAME_TAKEN' });
  });

  it('exits 64 for a wrong command line and 0 for --help', () => {
    expect(cli('org', 'frobnicate').status).toBe(64);
    expect(cli('table', 'create', '--org', 'Acme').status).toBe(64);
    const help = cli('--help');
    expect(help.status).toBe(0);
    expect(help.stdout).toContain('--json');
  });

  it("exits 64 for a value that is not one of an option's choices, in every command", () => {
    const key = ['key', 'create', '--org', 'Acme', '--description', 'd', '--password', 'pw123456'];
    const task = ['task', 'create', '--org', 'Acme', '--name', 't', '--code', '1'];
    for (const args of [
      [...key, '--type', 'bogus'],
      [...task, '--type', 'weird'],
      [...task, '--language', 'cobol'],
      ['import', 'rows.csv', '--org', 'Acme', '--table', 't', '--format', 'xls'],
      ['analyst', 'create', '--org', 'Acme', '--email', 'a@b.test', '--name', 'A', '--role', 'x'],
    ]) {
      const wrong = cli(...args);
      expect(wrong.status, args.join(' ')).toBe(64);
      expect(wrong.stderr, args.join(' ')).toMatch(
        /^error: option '--\w+ <\w+>' argument '\w+' is invalid\. Allowed choices are /,
      );
    }
  });

  it('exits 64 for --type upload_user without --user, naming the option to add', () => {
    const key = ['key', 'create', '--org', 'Acme', '--description', 'd', '--password', 'pw123456'];
    const noUser = cli(...key, '--type', 'upload_user');
    expect(noUser.status).toBe(64);
    expect(noUser.stderr).toMatch(/^error: --type upload_user needs --user <id>/);
    const extraUser = cli(...key, '--type', 'upload_any', '--user', 'u1');
    expect(extraUser.status).toBe(64);
    expect(extraUser.stderr).toMatch(
      /^error: --user goes only with --type upload_user; leave it out for an upload_any key\./,
    );
    expect(JSON.parse(cli('--json', 'key', 'list', '--org', 'Acme').stdout)).toEqual([]);
  });

  it("names the command line's options, not the API's parameters, in a refusal", () => {
    for (const [args, message] of [
      [['task', 'results', 'any', '--page', '0'], '--page must be a whole number from 1 to'],
      [
        ['task', 'results', 'any', '--per-page', '500'],
        '--per-page must be a whole number from 1 to 100; got "500".',
      ],
      [['budget', '--limit', '0'], '--limit must be a whole number from 1 to 100'],
      [
        [
          'task',
          'create',
          '--name',
          'p',
          '--type',
          'periodic',
          '--code',
          'report_property("a", 1)',
        ],
        'A periodic task needs --schedule, e.g. {"every_seconds": 3600}',
      ],
      [
        ['task', 'create', '--name', 'b', '--code', 'x', '--schedule', '{"every_seconds": 3600}'],
        'Only periodic and streaming tasks have a schedule; a batch task cannot. Leave out --schedule.',
      ],
    ] as const) {
      const refused = cli(...args, '--org', 'Acme');
      expect(refused.status, args.join(' ')).toBe(2);
      expect(refused.stderr, args.join(' ')).toContain(`error: ${message}`);
    }
  });
});
