// The slowest-files list names files that exist, so a renamed test does not silently fall back.
import { existsSync, readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';

describe('test/slow-files.json', () => {
  it('lists existing test files, each with the seconds it took', () => {
    const listed = JSON.parse(
      readFileSync(new URL('../slow-files.json', import.meta.url), 'utf8'),
    ) as Record<string, number>;
    expect(Object.keys(listed).length).toBeGreaterThan(10);
    for (const [file, seconds] of Object.entries(listed)) {
      expect(existsSync(new URL(`../../${file}`, import.meta.url)), file).toBe(true);
      expect(file).toMatch(/\.test\.tsx?$/);
      expect(seconds).toBeGreaterThan(0);
    }
  });
});
