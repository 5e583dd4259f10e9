// Bulk import streams: importing a large file keeps the resident set flat.
// The import runs in a child process: a test worker's resident set also holds what earlier test
// files left in the allocator (isolate: false), which made the bound depend on the files before.
import { describe, expect, it } from 'vitest';
import { measureInChild } from './test-support.ts';

const ROWS = 600_000;
const MiB = 1024 * 1024;

interface ImportMemory {
  importedRows: number;
  storedRows: number;
  fileBytes: number;
  samples: number;
  heapGrowth: number;
  rssGrowth: number;
}

describe('importing a large file', () => {
  it(`imports ${ROWS.toLocaleString('en')} CSV rows with a flat resident set`, async () => {
    const m = await measureInChild<ImportMemory>(
      new URL('./file-import-memory.child.ts', import.meta.url),
      [String(ROWS)],
    );
    expect(m.importedRows).toBe(ROWS);
    expect(m.storedRows).toBe(ROWS);
    expect(m.fileBytes).toBeGreaterThan(18 * MiB);
    // Enough progress reports to see growth between the first tenth and the end.
    expect(m.samples).toBeGreaterThanOrEqual(20);
    // Measured in a process of its own: 21 to 24 MiB of resident set (SQLite's page cache, the set
    // of user ids, allocator slack) and under 2 MiB of heap. Holding the rows would take well over
    // 100 MiB; a stream holds one batch of 5,000.
    expect(m.heapGrowth).toBeLessThan(16 * MiB);
    expect(m.rssGrowth).toBeLessThan(48 * MiB);
  }, 180_000);
});
