// Configuration is validated once, names the bad setting, fills defaults and cannot be changed later.
import { mkdtempSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { buildConfig, ConfigError, loadConfig } from './index.ts';

describe('configuration', () => {
  it('fills every default, grouped by concern', () => {
    const config = buildConfig({});
    expect(config.web.port).toBe(8443);
    expect(config.cloak.port).toBe(8444);
    expect(config.cloak.bodyLimitBytes).toBe(10 * 1024 * 1024);
    expect(config.cloak.taskTimeoutSeconds).toBe(120);
    expect(config.sandbox.timeoutMs).toBeGreaterThan(0);
    expect(path.isAbsolute(config.dataDir)).toBe(true);
  });

  it('names each bad setting in one error', () => {
    expect(() =>
      buildConfig({ web: { port: 70000 }, sandbox: { memoryLimitMb: 'lots' }, typo: 1 }),
    ).toThrow(
      expect.objectContaining({
        message: expect.stringMatching(/web\.port[\s\S]*sandbox\.memoryLimitMb[\s\S]*typo/),
      }),
    );
    expect(() => buildConfig({ web: { port: -1 } })).toThrow(ConfigError);
  });

  it('is frozen all the way down', () => {
    const config = buildConfig({});
    expect(Object.isFrozen(config)).toBe(true);
    expect(Object.isFrozen(config.tls.hosts)).toBe(true);
    expect(() => {
      (config.web as { port: number }).port = 1;
    }).toThrow(TypeError);
  });

  it('layers a JSON file under command-line overrides', () => {
    const dir = mkdtempSync(path.join(os.tmpdir(), 'opencloak-config-'));
    const file = path.join(dir, 'config.json');
    writeFileSync(
      file,
      JSON.stringify({ web: { port: 9000, maxPerPage: 50 }, cloak: { port: 9001 } }),
    );
    const config = loadConfig(file, { web: { port: 9100 } });
    expect(config.web).toMatchObject({ port: 9100, maxPerPage: 50 });
    expect(config.cloak.port).toBe(9001);
    writeFileSync(file, '{ not json');
    expect(() => loadConfig(file)).toThrow(/Cannot read configuration file/);
  });
});
