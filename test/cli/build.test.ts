// The opencloak command runs the compiled bundle, rebuilt when src/ changes, and never loads tsx.
import {
  mkdirSync,
  mkdtempSync,
  readFileSync,
  rmSync,
  statSync,
  unlinkSync,
  utimesSync,
  writeFileSync,
} from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
// @ts-expect-error: a plain JavaScript script, without type declarations.
import { BUILT_CLI, buildIsStale, ensureBuild } from '../../scripts/build.mjs';

const ROOT = path.resolve(import.meta.dirname, '../..');

describe('the compiled command', () => {
  const dir = mkdtempSync(path.join(os.tmpdir(), 'opencloak-build-'));
  afterAll(() => rmSync(dir, { recursive: true, force: true }));

  /** A tree shaped like an installation, every file dated `at` (seconds). */
  const installation = (at: number) => {
    const file = (name: string) => {
      const full = path.join(dir, name);
      mkdirSync(path.dirname(full), { recursive: true });
      writeFileSync(full, '');
      utimesSync(full, at, at);
      return full;
    };
    const sources = [file('src/cli/main.ts'), file('src/cli/old.ts'), file('package-lock.json')];
    for (const folder of ['src', 'src/cli']) utimesSync(path.join(dir, folder), at, at);
    return { sources, built: file('dist/cli/opencloak.mjs') };
  };

  it('is stale when missing, or older than a source, the lock file or a deleted source', () => {
    // Moments after scripts/build.mjs was last written (also an input) and before now, at which
    // deleting a file dates its folder.
    const script = statSync(path.join(ROOT, 'scripts/build.mjs')).mtimeMs / 1000;
    const span = Date.now() / 1000 - script;
    const moment = (k: number) => script + (span * k) / 100;
    const past = moment(1);
    const { sources, built } = installation(past);
    expect(buildIsStale(dir)).toBe(false);
    const [main, old, lock] = sources as [string, string, string];
    utimesSync(main, moment(2), moment(2));
    expect(buildIsStale(dir)).toBe(true);
    utimesSync(built, moment(3), moment(3));
    expect(buildIsStale(dir)).toBe(false);
    utimesSync(lock, moment(4), moment(4));
    expect(buildIsStale(dir)).toBe(true);
    utimesSync(built, moment(5), moment(5));
    unlinkSync(old); // the folder's time moves to now
    expect(buildIsStale(dir)).toBe(true);
    rmSync(built);
    expect(buildIsStale(dir)).toBe(true);
  });

  it('runs as one built file that never loads tsx', async () => {
    await ensureBuild();
    expect(buildIsStale(ROOT)).toBe(false);
    const bundle = readFileSync(BUILT_CLI, 'utf8');
    expect(bundle).not.toMatch(/from ["']tsx|import\(["']tsx|\/src\/cli\/main\.ts/);
    const bin = readFileSync(path.join(ROOT, 'bin/opencloak.mjs'), 'utf8');
    expect(bin).not.toContain('tsx');
    expect(bin).toContain('dist/cli/opencloak.mjs');
  }, 60_000);
});
