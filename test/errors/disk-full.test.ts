// A full disk answers 507 with a clear JSON error and loses nothing: every acknowledged upload is
// still there, the upload that hit the limit left no row, and uploads work again once there is room.
import type Database from 'better-sqlite3';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { TestKey } from '../support/https-client.ts';
import { startTestInstallation, type TestInstallation } from '../support/installation.ts';

const ROWS_PER_BATCH = 200;
const NOTE = 'x'.repeat(200);
/** Room left in cloak.db, in pages of 4 KB: full after a few dozen batches. */
const SPARE_PAGES = 100;

/**
 * The server's own connection to cloak.db. `max_page_count` holds per connection, so the test
 * reaches into the store to make SQLite behave as on a full disk (SQLITE_FULL) without a tmpfs.
 */
function cloakDb(inst: TestInstallation): Database.Database {
  return inst.platform.cloak.sql.raw;
}

function batch(n: number) {
  const rows = Array.from({ length: ROWS_PER_BATCH }, (_, i) => ({
    seq: n * ROWS_PER_BATCH + i,
    note: NOTE,
  }));
  return { [`user-${n}`]: { events: rows } };
}

describe('disk full', () => {
  let inst: TestInstallation;
  let orgId: string;
  let upload: TestKey;
  beforeAll(async () => {
    inst = await startTestInstallation();
    orgId = await inst.createOrg('Disk full');
    upload = await inst.issueKey(orgId, 'upload_any');
    await inst.platform.cloak.data.createTable(orgId, {
      name: 'events',
      columns: [
        { name: 'seq', type: 'integer' },
        { name: 'note', type: 'text' },
      ],
    });
  });
  afterAll(() => inst.stop());

  it('answers 507 in the JSON shape, keeps every acknowledged row and stores nothing of the failed upload', async () => {
    const db = cloakDb(inst);
    const normalLimit = db.pragma('max_page_count', { simple: true }) as number;
    const pages = db.pragma('page_count', { simple: true }) as number;
    db.pragma(`max_page_count = ${pages + SPARE_PAGES}`);
    let acknowledged = 0;
    let refused: Awaited<ReturnType<TestInstallation['cloak']>> | undefined;
    try {
      for (let n = 0; n < 1000 && !refused; n++) {
        const response = await inst.cloak('/bulk_insert', { body: batch(n), key: upload });
        if (response.status === 200) acknowledged += ROWS_PER_BATCH;
        else refused = response;
      }
      expect(acknowledged).toBeGreaterThan(0);
      expect(refused?.status).toBe(507);
      expect(refused?.json).toEqual({
        success: false,
        error: expect.stringMatching(/^The server's disk is full: .*Free disk space/),
      });
      expect(await inst.platform.cloak.data.rowCount(orgId, 'events')).toBe(acknowledged);
      const seqs = db
        .prepare(`SELECT count(DISTINCT seq) AS n, max(seq) AS top FROM ${physicalEvents(db)}`)
        .get() as { n: number; top: number };
      expect(seqs).toEqual({ n: acknowledged, top: acknowledged - 1 });
    } finally {
      db.pragma(`max_page_count = ${normalLimit}`);
    }
    // With room again the same upload goes through: the refusal left nothing half-done behind.
    const retry = await inst.cloak('/bulk_insert', {
      body: batch(acknowledged / ROWS_PER_BATCH),
      key: upload,
    });
    expect(retry.status).toBe(200);
    expect(await inst.platform.cloak.data.rowCount(orgId, 'events')).toBe(
      acknowledged + ROWS_PER_BATCH,
    );
  });
});

/** The SQLite table behind "events", the only user table of this installation. */
function physicalEvents(db: Database.Database): string {
  const row = db
    .prepare(`SELECT name FROM sqlite_master WHERE type = 'table' AND name LIKE 'data_rows_%'`)
    .get() as { name: string };
  return `"${row.name}"`;
}
