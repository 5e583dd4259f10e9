// The read cache: values kept until any write on SQLite, from any connection; nothing kept on PostgreSQL.
import { mkdtempSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { ReadCache } from './read-cache.ts';
import { openDatabase, type Db } from './sqlite.ts';
import { TEST_DIALECTS } from './test-support.ts';

describe('ReadCache', () => {
  let dir: string;
  let db: Db;
  let cache: ReadCache;
  let reads: number;
  const value = () =>
    cache.get('v', async () => {
      reads++;
      return { v: (db.prepare('SELECT v FROM t').get() as { v: number }).v };
    });

  beforeEach(() => {
    dir = mkdtempSync(path.join(os.tmpdir(), 'read-cache-'));
    db = openDatabase(path.join(dir, 'a.db'));
    db.exec('CREATE TABLE t (v INTEGER); INSERT INTO t VALUES (1); CREATE TABLE other (x)');
    cache = new ReadCache(db);
    reads = 0;
  });
  afterEach(() => {
    db.close();
    rmSync(dir, { recursive: true, force: true });
  });

  it('reads once while nothing changes, and hands out a frozen value', async () => {
    expect(await value()).toEqual({ v: 1 });
    expect(await value()).toEqual({ v: 1 });
    expect(reads).toBe(1);
    expect(Object.isFrozen(await value())).toBe(true);
  });

  it('drops everything after any write on this connection, to any table', async () => {
    await value();
    db.prepare('INSERT INTO other VALUES (1)').run();
    await value();
    expect(reads).toBe(2);
    db.prepare('UPDATE t SET v = 2').run();
    expect(await value()).toEqual({ v: 2 });
  });

  it("drops everything after another connection's commit (another process, like the CLI)", async () => {
    await value();
    const other = openDatabase(path.join(dir, 'a.db'));
    try {
      other.prepare('UPDATE t SET v = 3').run();
    } finally {
      other.close();
    }
    expect(await value()).toEqual({ v: 3 });
    expect(reads).toBe(2);
  });

  it('does not keep a value read while a write happened', async () => {
    const stale = await cache.get('v', async () => {
      reads++;
      const read = { v: (db.prepare('SELECT v FROM t').get() as { v: number }).v };
      db.prepare('UPDATE t SET v = 4').run();
      return read;
    });
    expect(stale).toEqual({ v: 1 });
    expect(await value()).toEqual({ v: 4 });
    expect(reads).toBe(2);
  });
});

describe('ReadCache on PostgreSQL', () => {
  it('reads every time: no stamp there is cheap and seen by every server at once', async () => {
    const { db, cleanup } = await TEST_DIALECTS.find((d) => d.dialect === 'postgres')!.open();
    try {
      const cache = new ReadCache(db);
      let reads = 0;
      const read = () => cache.get('k', async () => ++reads);
      expect([await read(), await read()]).toEqual([1, 2]);
      expect(cache.caching).toBe(false);
    } finally {
      await cleanup();
    }
  });
});
