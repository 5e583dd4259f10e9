// `opencloak start --store postgres://…` keeps the cloak's user tables in that database, not in cloak.db.
import { mkdtempSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import pg from 'pg';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createTestDatabase } from '../../src/store/test-support.ts';
import { startServerProcess, stopServerProcess } from '../support/server-process.ts';

describe('opencloak start --store', () => {
  const dataDir = mkdtempSync(path.join(os.tmpdir(), 'opencloak-start-store-'));
  let database: Awaited<ReturnType<typeof createTestDatabase>>;

  beforeAll(async () => {
    database = await createTestDatabase('oc_start_store');
  });
  afterAll(async () => {
    await database?.drop();
    rmSync(dataDir, { recursive: true, force: true });
  });

  it("creates the cloak's data tables in the PostgreSQL database it names", async () => {
    const server = await startServerProcess(dataDir, { globalArgs: ['--store', database.url] });
    try {
      const client = new pg.Client({ connectionString: database.url });
      await client.connect();
      try {
        const { rows } = await client.query<{ name: string | null }>(
          "SELECT CAST(to_regclass('data_tables') AS text) AS name",
        );
        expect(rows[0]!.name).toBe('data_tables');
      } finally {
        await client.end();
      }
      expect(server.output()).not.toContain('postgres://');
    } finally {
      await stopServerProcess(server);
    }
  });
});
