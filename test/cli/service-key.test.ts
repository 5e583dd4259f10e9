// `opencloak service-key` issues, lists and revokes the air's key; `start --air-only` checks its flags and its cloak.
import { spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, statSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';

const BIN = path.resolve(import.meta.dirname, '../../bin/opencloak.mjs');

describe('opencloak service-key and start --air-only', () => {
  const dir = mkdtempSync(path.join(os.tmpdir(), 'opencloak-service-key-'));
  const dataDir = path.join(dir, 'data');
  const keyFile = path.join(dir, 'air-service.pem');
  afterAll(() => rmSync(dir, { recursive: true, force: true }));
  const cli = (...args: string[]) =>
    spawnSync(process.execPath, [BIN, '--data-dir', dataDir, ...args], { encoding: 'utf8' });

  it('writes a key file only its owner can read, lists it and revokes it', () => {
    const created = cli('--json', 'service-key', 'create', '--out', keyFile);
    expect(created.status, created.stderr).toBe(0);
    const record = JSON.parse(created.stdout);
    expect(record).toMatchObject({ id: expect.stringMatching(/^air-/), revokedAt: null });
    expect(statSync(keyFile).mode & 0o777).toBe(0o600);
    const pem = readFileSync(keyFile, 'utf8');
    expect(pem.match(/-----BEGIN CERTIFICATE-----/g)).toHaveLength(2);
    expect(pem).toContain('-----BEGIN PRIVATE KEY-----');

    // A second create never overwrites a key file.
    expect(cli('service-key', 'create', '--out', keyFile).status).toBe(2);

    const { file, ...stored } = record;
    expect(file).toBe(keyFile);
    expect(JSON.parse(cli('--json', 'service-key', 'list').stdout)).toEqual([stored]);
    const revoked = JSON.parse(cli('--json', 'service-key', 'revoke', record.id).stdout);
    expect(revoked.revokedAt).toEqual(expect.any(Number));
    expect(cli('service-key', 'revoke', 'air-nobody').status).toBe(2);
  });

  it('refuses --air-only without a cloak and a key, or beside --cloak-only (exit 64)', () => {
    expect(cli('start', '--air-only').status).toBe(64);
    expect(cli('start', '--air-only', '--cloak-only').status).toBe(64);
    expect(cli('start', '--cloak', 'https://127.0.0.1:1').status).toBe(64);
    const plain = cli('start', '--air-only', '--cloak', 'http://x', '--service-key', keyFile);
    expect(plain.status).toBe(64);
    expect(plain.stderr).toMatch(/https:\/\//);
  });

  it('stops an air whose cloak does not answer, naming the address', () => {
    const started = cli(
      'start',
      '--air-only',
      '--web-port',
      '0',
      '--cloak',
      'https://127.0.0.1:1',
      '--service-key',
      keyFile,
    );
    expect(started.status).toBe(2);
    expect(started.stderr).toMatch(/^error: The cloak at https:\/\/127\.0\.0\.1:1 did not answer/);
  });
});
