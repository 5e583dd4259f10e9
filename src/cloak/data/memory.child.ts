// Child process for memory.test.ts: fills a fresh store, streams every user back one by one and
// prints how many users and rows came back and how much the heap grew meanwhile, as one line of
// JSON. A process of its own, because a test worker's heap carries what earlier files left in it.
import { exposedGc, openTestStore } from './test-support.ts';

const users = Number(process.argv[2]);
const rowsPerUser = Number(process.argv[3]);
const USERS_PER_UPLOAD = 20_000;
const gc = exposedGc();
const t = await openTestStore();
try {
  t.store.createTable('org', {
    name: 'events',
    columns: [
      { name: 'kind', type: 'varchar(16)' },
      { name: 'amount', type: 'double' },
      { name: 'flag', type: 'boolean' },
    ],
  });
  t.store.createTable('org', { name: 'profile', columns: [{ name: 'age', type: 'integer' }] });
  for (let start = 0; start < users; start += USERS_PER_UPLOAD) {
    const payload: Record<string, unknown> = {};
    for (let u = start; u < Math.min(users, start + USERS_PER_UPLOAD); u++) {
      const events = Array.from({ length: rowsPerUser }, (_, i) => ({
        kind: `kind-${i}`,
        amount: u + i / 10,
        flag: i % 2 === 0,
      }));
      payload[`user-${String(u).padStart(7, '0')}`] = {
        events,
        ...(u % 2 === 0 ? { profile: [{ age: u % 90 }] } : {}),
      };
    }
    t.store.insert('org', payload);
  }
  gc();
  const baseline = process.memoryUsage().heapUsed;
  let peak = 0;
  let streamed = 0;
  let rows = 0;
  let ordered = true;
  let previous = '';
  for (const user of t.store.streamUsers('org', [{ table: 'events' }, { table: 'profile' }])) {
    ordered &&= user.userId > previous;
    previous = user.userId;
    streamed++;
    rows += (user.tables.events?.length ?? 0) + (user.tables.profile?.length ?? 0);
    if (streamed % 10_000 === 0) {
      // Garbage is not growth: collect it first, so what remains is what the stream holds.
      gc();
      peak = Math.max(peak, process.memoryUsage().heapUsed - baseline);
    }
  }
  console.log(JSON.stringify({ users: streamed, rows, ordered, peak }));
} finally {
  t.close();
}
