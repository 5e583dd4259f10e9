// `npm install` on a supported Node prints no engine warning: every locked package accepts every
// Node version package.json's "engines" admits, and the README names the same versions.
import { readFileSync } from 'node:fs';
import path from 'node:path';
import semver from 'semver';
import { describe, expect, it } from 'vitest';

const ROOT = path.resolve(import.meta.dirname, '../..');
const readJson = (file: string) => JSON.parse(readFileSync(path.join(ROOT, file), 'utf8'));

const supported: string = readJson('package.json').engines.node;
const locked = readJson('package-lock.json').packages as Record<
  string,
  { version?: string; engines?: { node?: string } | string[] }
>;

describe('supported Node versions', () => {
  it('are accepted by every locked package (npm warns EBADENGINE otherwise)', () => {
    const refusing = Object.entries(locked).flatMap(([where, pkg]) => {
      const wanted = Array.isArray(pkg.engines) ? undefined : pkg.engines?.node;
      if (where === '' || wanted === undefined) return [];
      return semver.subset(supported, wanted) ? [] : [`${where}@${pkg.version}: node ${wanted}`];
    });
    expect(refusing).toEqual([]);
  });

  it('include the Node this runs on, and the lock file says the same', () => {
    expect(semver.satisfies(process.versions.node, supported)).toBe(true);
    expect(locked['']?.engines).toEqual({ node: supported });
  });

  it('are the ones the README states', () => {
    const readme = readFileSync(path.join(ROOT, 'README.md'), 'utf8');
    expect(readme).toContain('Node.js 20.19 or later 20.x, 22.13 or later 22.x, or 24 to 26');
  });
});
