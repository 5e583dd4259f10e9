// Child process for file-import-memory.test.ts: imports a large CSV file into a fresh store and
// prints how much the heap and the resident set grew during the import, as one line of JSON.
// A process of its own, because a test worker's allocator carries what earlier files left in it.
import { createReadStream, createWriteStream, statSync } from 'node:fs';
import path from 'node:path';
import { once } from 'node:events';
import { exposedGc, openTestStore } from './test-support.ts';

const rows = Number(process.argv[2]);
const gc = exposedGc();
const t = await openTestStore();
try {
  t.store.createTable('org', {
    name: 'events',
    columns: [
      { name: 'kind', type: 'varchar(16)' },
      { name: 'amount', type: 'double' },
      { name: 'ts', type: 'bigint' },
    ],
  });
  const file = path.join(path.dirname(t.file), 'events.csv');
  const out = createWriteStream(file);
  out.write('user_id,kind,amount,ts\n');
  for (let i = 0; i < rows; i++) {
    const line = `user-${Math.floor(i / 20)},${i % 3 === 0 ? 'purchase' : 'view'},${(i % 997) / 10},${1_767_225_600 + i}\n`;
    if (!out.write(line)) await once(out, 'drain');
  }
  out.end();
  await once(out, 'finish');

  const rss: number[] = [];
  const heap: number[] = [];
  const result = await t.store.importFile('org', createReadStream(file), {
    format: 'csv',
    table: 'events',
    userColumn: 'user_id',
    source: 'events.csv',
    onProgress: () => {
      // Garbage is not growth: collect it first, so what remains is what the import holds.
      gc();
      const usage = process.memoryUsage();
      rss.push(usage.rss);
      heap.push(usage.heapUsed + usage.external);
    },
  });
  // From the end of the first tenth (parser, statements and page cache warm) to the peak.
  const growth = (xs: number[]) => Math.max(...xs) - xs[Math.floor(xs.length / 10)]!;
  process.stdout.write(
    JSON.stringify({
      importedRows: result.rows,
      storedRows: t.store.rowCount('org', 'events'),
      fileBytes: statSync(file).size,
      samples: rss.length,
      heapGrowth: growth(heap),
      rssGrowth: growth(rss),
    }) + '\n',
  );
} finally {
  t.close();
}
