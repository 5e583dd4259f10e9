import { mkdtempSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { ReadCache } from './read-cache.ts';
import { openDatabase, type Db } from './sqlite.ts';

describe('ReadCache', () => {
  let dir: string;
  let db: Db;
  let cache: ReadCache;
  let reads: number;
  const value = () =>
    cache.get('v', () => {
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

  it('reads once while nothing changes, and hands out a frozen value', () => {
    expect(value()).toEqual({ v: 1 });
    expect(value()).toEqual({ v: 1 });
    expect(reads).toBe(1);
    expect(Object.isFrozen(value())).toBe(true);
  });

  it('drops everything after any write on this connection, to any table', () => {
    value();
    db.prepare('INSERT INTO other VALUES (1)').run();
    value();
    expect(reads).toBe(2);
    db.prepare('UPDATE t SET v = 2').run();
    expect(value()).toEqual({ v: 2 });
  });

  it("drops everything after another connection's commit (another process, like the CLI)", () => {
    value();
    const other = openDatabase(path.join(dir, 'a.db'));
    try {
      other.prepare('UPDATE t SET v = 3').run();
    } finally {
      other.close();
    }
    expect(value()).toEqual({ v: 3 });
    expect(reads).toBe(2);
  });
});
