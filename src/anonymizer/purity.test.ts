// The anonymizer stays pure: it imports only src/shared and node:crypto, and never Math.random.
import { readdirSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { describe, expect, it } from 'vitest';

const HERE = import.meta.dirname;
const SHARED = path.resolve(HERE, '../shared');
const sources = readdirSync(HERE).filter((f) => f.endsWith('.ts') && !f.endsWith('.test.ts'));

function specifiers(text: string): string[] {
  return [
    ...text.matchAll(
      /(?:import|export)[^'"]*?from\s+['"]([^'"]+)['"]|import\(\s*['"]([^'"]+)['"]\s*\)|require\(\s*['"]([^'"]+)['"]\s*\)/g,
    ),
  ].map((m) => (m[1] ?? m[2] ?? m[3]) as string);
}

describe('anonymizer purity', () => {
  it.each(sources)('%s imports only its own files, src/shared and node:crypto', (file) => {
    for (const specifier of specifiers(readFileSync(path.join(HERE, file), 'utf8'))) {
      if (specifier.startsWith('.')) {
        const target = path.resolve(HERE, specifier);
        const inside = [HERE, SHARED].some((dir) => target.startsWith(dir + path.sep));
        expect(inside, `${file} imports ${specifier}`).toBe(true);
      } else {
        expect(specifier, `${file} imports ${specifier}`).toBe('node:crypto');
      }
    }
  });

  it.each(sources)('%s draws no randomness or time from the host', (file) => {
    const text = readFileSync(path.join(HERE, file), 'utf8');
    for (const banned of ['Math.random', 'Date.now', 'new Date', 'performance.now', 'process.']) {
      expect(text.includes(banned), `${file} uses ${banned}`).toBe(false);
    }
  });

  it('re-exports only from index.ts', () => {
    const index = readFileSync(path.join(HERE, 'index.ts'), 'utf8');
    const body = index.split('\n').filter((line) => line.trim() !== '' && !line.startsWith('//'));
    expect(body.join('\n')).toMatch(/^(export [\s\S]*?;\s*)+$/);
  });
});
