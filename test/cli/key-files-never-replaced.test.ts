// `opencloak key create` refuses an output it cannot use before it issues anything: an existing key's files, a file as --out.
import { spawnSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';

const BIN = path.resolve(import.meta.dirname, '../../bin/opencloak.mjs');

/** Each command is a process; at a high load one takes seconds. A guard, not a measure. */
const COMMANDS_TIMEOUT_MS = 300_000;

describe('opencloak key create and its files', { timeout: COMMANDS_TIMEOUT_MS }, () => {
  const dir = mkdtempSync(path.join(os.tmpdir(), 'opencloak-key-files-'));
  const dataDir = path.join(dir, 'data');
  afterAll(() => rmSync(dir, { recursive: true, force: true }));

  const cli = (...args: string[]) =>
    spawnSync(process.execPath, [BIN, '--data-dir', dataDir, ...args], {
      encoding: 'utf8',
      cwd: dir,
    });
  const create = (...more: string[]) =>
    cli(
      'key',
      'create',
      '--org',
      'Acme',
      '--type',
      'web_api',
      '--description',
      'd',
      '--password',
      'pw123456',
      ...more,
    );
  const keyCount = () => JSON.parse(cli('--json', 'key', 'list', '--org', 'Acme').stdout).length;

  beforeAll(() => {
    expect(cli('org', 'create', 'Acme').status).toBe(0);
  });

  it("refuses to replace an earlier key's files, before issuing another key", () => {
    const first = create('--out', 'keys', '--name', 'my-key');
    expect(first.status, first.stderr).toBe(0);
    const pfx = readFileSync(path.join(dir, 'keys/my-key.pfx'));
    const pem = readFileSync(path.join(dir, 'keys/my-key.pem'), 'utf8');

    const again = create('--out', 'keys', '--name', 'my-key');
    expect(again.status).toBe(2);
    expect(again.stdout).toBe('');
    expect(again.stderr.trimEnd().split('\n')).toEqual([
      expect.stringMatching(
        /^error: keys\/my-key\.pfx and keys\/my-key\.pem already exist; nothing was issued\. Give another --name, or move the files away/,
      ),
    ]);
    expect(readFileSync(path.join(dir, 'keys/my-key.pfx'))).toEqual(pfx);
    expect(readFileSync(path.join(dir, 'keys/my-key.pem'), 'utf8')).toBe(pem);
    expect(keyCount()).toBe(1);

    // One of the two files is enough to refuse; the message names the one there is.
    rmSync(path.join(dir, 'keys/my-key.pfx'));
    const half = create('--out', 'keys', '--name', 'my-key');
    expect(half.status).toBe(2);
    expect(half.stderr).toMatch(/^error: keys\/my-key\.pem already exists; nothing was issued\./);
    expect(keyCount()).toBe(1);
  });

  it('refuses an --out that is a file, or that cannot be made, before issuing a key', () => {
    writeFileSync(path.join(dir, 'afile'), '');
    const onFile = create('--out', 'afile', '--name', 'k');
    expect(onFile.status).toBe(2);
    expect(onFile.stderr.trimEnd().split('\n')).toEqual([
      expect.stringMatching(/^error: --out afile is a file, not a directory\. Give a directory/),
    ]);

    const underFile = create('--out', 'afile/sub', '--name', 'k');
    expect(underFile.status).toBe(2);
    expect(underFile.stderr).toMatch(
      /^error: --out afile\/sub cannot be created: .*afile is a file/,
    );
    expect(keyCount()).toBe(1);
  });

  it('creates a missing --out directory and writes new files there', () => {
    mkdirSync(path.join(dir, 'made'));
    const made = create('--out', 'made/deeper/still', '--name', 'k');
    expect(made.status, made.stderr).toBe(0);
    expect(readFileSync(path.join(dir, 'made/deeper/still/k.pem'), 'utf8')).toContain(
      'ENCRYPTED PRIVATE KEY',
    );
    expect(keyCount()).toBe(2);
  });
});
