// A noise secret is never made again for data that had one: a copy of a data directory without
// secrets/ refuses to open instead of answering the same data with fresh noise (issue 16).
import { existsSync, mkdtempSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { buildConfig } from '../../src/config/index.ts';
import { openPlatform } from '../../src/platform/index.ts';

describe('noise secret kept with its data', () => {
  const dirs: string[] = [];
  const fresh = () => {
    const dir = mkdtempSync(path.join(os.tmpdir(), 'opencloak-secret-'));
    dirs.push(dir);
    return dir;
  };
  const secretFile = (dir: string) => path.join(dir, 'secrets', 'noise.key');
  afterEach(() => dirs.splice(0).forEach((d) => rmSync(d, { recursive: true, force: true })));

  it('refuses to open an installation whose organisations outlived its secret', async () => {
    const dir = fresh();
    const config = buildConfig({ dataDir: dir });
    const first = await openPlatform(config);
    await first.air.organisations.create('Acme');
    await first.close();
    rmSync(path.join(dir, 'secrets'), { recursive: true });
    await expect(openPlatform(config)).rejects.toThrow(/rows in organisations of air\.db/);
    expect(existsSync(secretFile(dir))).toBe(false);
  });

  it('is made when an installation holds nothing but empty tables', async () => {
    const dir = fresh();
    const config = buildConfig({ dataDir: dir });
    await (await openPlatform(config)).close();
    rmSync(path.join(dir, 'secrets'), { recursive: true });
    await (await openPlatform(config)).close();
    expect(existsSync(secretFile(dir))).toBe(true);
  });

  it('refuses an installation whose cloak holds tables but whose secret is gone', async () => {
    const dir = fresh();
    const config = buildConfig({ dataDir: dir });
    const first = await openPlatform(config);
    const orgId = (await first.air.organisations.create('Acme')).id;
    await first.cloak.data.createTable(orgId, {
      name: 'people',
      columns: [{ name: 'age', type: 'integer' }],
    });
    await first.close();
    rmSync(path.join(dir, 'secrets'), { recursive: true });
    await expect(openPlatform(config)).rejects.toThrow(/rows in data_tables of cloak\.db/);
  });
});
