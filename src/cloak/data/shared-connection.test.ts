// cloak.db's one connection is shared with the bookkeeping stores: an upload must never join their open transaction.
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { openSqliteDb, type SqliteSqlDb } from '../../store/index.ts';
import { SqliteDataStore } from './sqlite-data-store.ts';

const ORG = 'org-1';

describe('the embedded data store on a shared connection', () => {
  let dir: string;
  let db: SqliteSqlDb;
  afterEach(async () => {
    await db.close();
    rmSync(dir, { recursive: true, force: true });
  });

  it('keeps an upload made while a budget transaction awaits, when that transaction rolls back', async () => {
    dir = mkdtempSync(path.join(tmpdir(), 'opencloak-shared-'));
    db = openSqliteDb(path.join(dir, 'cloak.db'));
    const data = await SqliteDataStore.open(db);
    await data.createTable(ORG, { name: 't', columns: [{ name: 'v', type: 'integer' }] });
    await db.exec('CREATE TABLE ledger (x INTEGER)');

    let entered!: () => void;
    const inside = new Promise<void>((resolve) => (entered = resolve));
    let finish!: () => void;
    const gate = new Promise<void>((resolve) => (finish = resolve));
    // A budget preview: it writes, awaits, and rolls back on purpose.
    const preview = db.transaction(async (tx) => {
      await tx.run('INSERT INTO ledger (x) VALUES (1)');
      entered();
      await gate;
      throw new Error('preview rolled back');
    });
    await inside;
    const upload = data.insert(ORG, { alice: { t: [{ v: 7 }] } });
    finish();
    await expect(preview).rejects.toThrow('preview rolled back');
    expect(await upload).toMatchObject({ users: 1, rows: 1 });

    expect(await data.rowCount(ORG, 't')).toBe(1);
    expect(await db.all('SELECT x FROM ledger')).toEqual([]);
  });
});
