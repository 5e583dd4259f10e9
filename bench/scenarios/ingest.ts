// Scenario: POST /bulk_insert over HTTPS with a client certificate vs a plain better-sqlite3 insert loop.
import Database from 'better-sqlite3';
import { mkdtempSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { buildConfig } from '../../src/config/index.ts';
import { keepAliveAgent, postJson } from '../../src/demo/https-upload.ts';
import { startPlatform } from '../../src/platform/index.ts';
import type { Scenario } from '../harness.ts';

export const ROWS_PER_USER = 10;
const USERS_PER_REQUEST = 500;
const CONCURRENCY = 2;
export const TABLE = {
  name: 'events',
  columns: [
    { name: 'kind', type: 'varchar(16)' },
    { name: 'amount', type: 'double' },
    { name: 'count', type: 'integer' },
    { name: 'ts', type: 'bigint' },
  ],
};

export function users(size: 'small' | 'full') {
  return size === 'full' ? 100_000 : 10_000;
}

/** The same rows for both sides, built before timing starts. */
export function batches(totalUsers: number) {
  const out: Array<Record<string, { events: Array<Record<string, string | number>> }>> = [];
  for (let start = 0; start < totalUsers; start += USERS_PER_REQUEST) {
    const batch: Record<string, { events: Array<Record<string, string | number>> }> = {};
    for (let u = start; u < Math.min(totalUsers, start + USERS_PER_REQUEST); u++) {
      batch[`user-${u}`] = {
        events: Array.from({ length: ROWS_PER_USER }, (_, i) => ({
          kind: i % 2 === 0 ? 'view' : 'purchase',
          amount: ((u * 7 + i) % 1000) / 10,
          count: i,
          ts: 1_767_225_600 + u * 10 + i,
        })),
      };
    }
    out.push(batch);
  }
  return out;
}

function tempDir() {
  return mkdtempSync(path.join(os.tmpdir(), 'opencloak-bench-'));
}

export const ingestScenario: Scenario = {
  name: 'ingest',
  description: `bulk_insert over HTTPS (${USERS_PER_REQUEST * ROWS_PER_USER} rows/request, ${CONCURRENCY} keep-alive clients) vs a better-sqlite3 insert loop`,
  better: 'higher',
  targetRatio: 0.5,
  sides: {
    async figure(size) {
      const dir = tempDir();
      const platform = await startPlatform(
        buildConfig({ dataDir: dir, web: { port: 0 }, cloak: { port: 0 } }),
      );
      try {
        const org = await platform.air.organisations.create('bench');
        await platform.cloak.data.createTable(org.id, TABLE);
        const key = await platform.keys.create(org.id, {
          type: 'upload_any',
          description: 'bench',
          password: 'bench',
        });
        const client = { pfx: key.pfx, passphrase: 'bench', caCertPem: platform.pki.ca.certPem };
        const agent = keepAliveAgent(client);
        const work = batches(users(size));
        const started = process.hrtime.bigint();
        let next = 0;
        await Promise.all(
          Array.from({ length: CONCURRENCY }, async () => {
            while (next < work.length)
              await postJson(`${platform.cloakUrl}/bulk_insert`, work[next++], client, agent);
          }),
        );
        const seconds = Number(process.hrtime.bigint() - started) / 1e9;
        agent.destroy();
        return { value: (users(size) * ROWS_PER_USER) / seconds, unit: 'rows/s' };
      } finally {
        await platform.stop();
        rmSync(dir, { recursive: true, force: true });
      }
    },
    async baseline(size) {
      const work = batches(users(size));
      // The ratio's baseline: a table laid out as the cloak lays out its user tables (user id,
      // arrival sequence and time, clustered by user), so both sides do the same SQLite work.
      const clustered = insertLoop(work, 'clustered');
      // For reference (notes): an unindexed rowid table without sequence or arrival columns.
      const plain = insertLoop(work, 'plain');
      return {
        value: clustered,
        unit: 'rows/s',
        notes: { 'plain table rows/s': Math.round(plain) },
      };
    },
  },
};

/** A plain better-sqlite3 loop, one statement run per row, one transaction per request's rows. */
export function insertLoop(
  work: ReturnType<typeof batches>,
  layout: 'clustered' | 'plain',
): number {
  const dir = tempDir();
  const db = new Database(path.join(dir, 'plain.db'));
  try {
    db.pragma('journal_mode = WAL');
    db.pragma('synchronous = FULL');
    db.exec(
      layout === 'plain'
        ? 'CREATE TABLE events (user_id TEXT, kind TEXT, amount REAL, count INTEGER, ts INTEGER)'
        : 'CREATE TABLE events (user_id TEXT NOT NULL, seq INTEGER NOT NULL, arrival INTEGER NOT NULL, ' +
            'kind TEXT, amount REAL, count INTEGER, ts INTEGER, PRIMARY KEY (user_id, seq)) STRICT, WITHOUT ROWID',
    );
    const insert = db.prepare(
      layout === 'plain'
        ? 'INSERT INTO events VALUES (?, ?, ?, ?, ?)'
        : 'INSERT INTO events VALUES (?, ?, ?, ?, ?, ?, ?)',
    );
    let seq = 0;
    const started = process.hrtime.bigint();
    for (const batch of work) {
      const arrival = Date.now();
      db.transaction(() => {
        for (const [user, tables] of Object.entries(batch)) {
          for (const r of tables.events) {
            if (layout === 'plain') insert.run(user, r.kind, r.amount, r.count, r.ts);
            else insert.run(user, ++seq, arrival, r.kind, r.amount, r.count, r.ts);
          }
        }
      })();
    }
    const seconds = Number(process.hrtime.bigint() - started) / 1e9;
    return (work.length * USERS_PER_REQUEST * ROWS_PER_USER) / seconds;
  } finally {
    db.close();
    rmSync(dir, { recursive: true, force: true });
  }
}
