// The noise secret is made once, for a fresh data directory, and never again for one holding data.
import { existsSync, mkdtempSync, rmSync, statSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { AppError } from '../errors/index.ts';
import { loadOrCreateNoiseSecret, noiseSecretPath } from './noise-secret.ts';

describe('noise secret', () => {
  const dirs: string[] = [];
  const fresh = () => {
    const dir = mkdtempSync(path.join(os.tmpdir(), 'opencloak-secret-'));
    dirs.push(dir);
    return dir;
  };
  afterEach(() => dirs.splice(0).forEach((d) => rmSync(d, { recursive: true, force: true })));

  it('is created for a fresh data directory, private to its owner, and read back unchanged', () => {
    const dir = fresh();
    const secret = loadOrCreateNoiseSecret(dir, () => undefined);
    expect(statSync(noiseSecretPath(dir)).mode & 0o777).toBe(0o600);
    expect(statSync(path.dirname(noiseSecretPath(dir))).mode & 0o777).toBe(0o700);
    // Once it exists, data does not matter: the same secret comes back.
    expect(loadOrCreateNoiseSecret(dir, () => 'rows in data_tables of cloak.db')).toEqual(secret);
  });

  it('is not made again for a data directory that holds data, and the error says what to restore', () => {
    const dir = fresh();
    let error: unknown;
    try {
      loadOrCreateNoiseSecret(dir, () => 'rows in organisations of air.db');
    } catch (caught) {
      error = caught;
    }
    expect(error).toBeInstanceOf(AppError);
    expect((error as AppError).code).toBe('NOISE_SECRET_MISSING');
    expect((error as AppError).message).toContain(noiseSecretPath(dir));
    expect((error as AppError).message).toContain('rows in organisations of air.db');
    expect((error as AppError).message).toContain('opencloak restore');
    expect(existsSync(noiseSecretPath(dir))).toBe(false);
  });

  it('reports a damaged secret instead of using it', () => {
    const dir = fresh();
    loadOrCreateNoiseSecret(dir, () => undefined);
    writeFileSync(noiseSecretPath(dir), 'short');
    expect(() => loadOrCreateNoiseSecret(dir, () => undefined)).toThrow(/damaged/);
  });
});
