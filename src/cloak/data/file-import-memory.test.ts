// Bulk import streams: importing a large file keeps the resident set flat.
import { createReadStream, createWriteStream, statSync } from 'node:fs';
import path from 'node:path';
import { once } from 'node:events';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { exposedGc, openTestStore, type TestStore } from './test-support.ts';

const ROWS = 600_000;
const gc = exposedGc();
const MiB = 1024 * 1024;

describe('importing a large file', () => {
  let t: TestStore;
  let file: string;
  beforeAll(async () => {
    t = await openTestStore();
    t.store.createTable('org', {
      name: 'events',
      columns: [
        { name: 'kind', type: 'varchar(16)' },
        { name: 'amount', type: 'double' },
        { name: 'ts', type: 'bigint' },
      ],
    });
    file = path.join(path.dirname(t.file), 'events.csv');
    const out = createWriteStream(file);
    out.write('user_id,kind,amount,ts\n');
    for (let i = 0; i < ROWS; i++) {
      const line = `user-${Math.floor(i / 20)},${i % 3 === 0 ? 'purchase' : 'view'},${(i % 997) / 10},${1_767_225_600 + i}\n`;
      if (!out.write(line)) await once(out, 'drain');
    }
    out.end();
    await once(out, 'finish');
  }, 120_000);
  afterAll(() => t.close());

  it(`imports ${ROWS.toLocaleString('en')} CSV rows with a flat resident set`, async () => {
    const size = statSync(file).size;
    const rss: number[] = [];
    const result = await t.store.importFile('org', createReadStream(file), {
      format: 'csv',
      table: 'events',
      userColumn: 'user_id',
      source: 'events.csv',
      onProgress: () => {
        // Garbage is not growth: collect it first, so what remains is what the import holds.
        gc();
        rss.push(process.memoryUsage().rss);
      },
    });
    expect(result.rows).toBe(ROWS);
    expect(t.store.rowCount('org', 'events')).toBe(ROWS);
    // From the end of the first tenth (parser, statements and page cache warm) to the peak.
    // Measured: about 13 MiB (SQLite's page cache, the set of user ids, allocator slack); holding
    // the rows would take well over 100 MiB, and a stream holds one batch of 5,000.
    const warm = rss[Math.floor(rss.length / 10)] as number;
    const growth = Math.max(...rss) - warm;
    expect(size).toBeGreaterThan(18 * MiB);
    expect(growth).toBeLessThan(28 * MiB);
  }, 120_000);
});
