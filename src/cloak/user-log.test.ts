// The user log: the same records in the same order (by partition) from memory and from its temporary file, which close deletes.
import { mkdtempSync, readdirSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { userKey } from '../anonymizer/index.ts';
import { partitionOf } from './budget-pages.ts';
import { UserLog } from './user-log.ts';

const SECRET = new Uint8Array(32).fill(4);

/** 10,000 users (more than two spilled chunks) with 0 to 5 ids each. */
const RECORDS = Array.from({ length: 10_000 }, (_, u) => ({
  key: userKey(SECRET, `u${u}`),
  ids: Array.from({ length: u % 6 }, (_, i) => (u * 7 + i * 13) % 1000),
}));

function readBack(log: UserLog) {
  return [...log].map(([key, ids]) => ({ key: Buffer.from(key).toString('hex'), ids: [...ids] }));
}

/** Partition by partition of the keys, in the order added within each (a stable sort). */
const expected = [...RECORDS]
  .sort((a, b) => partitionOf(a.key) - partitionOf(b.key))
  .map(({ key, ids }) => ({ key: Buffer.from(key).toString('hex'), ids }));

describe('UserLog', () => {
  it('keeps a small run in memory and gives its records back by partition, in order within each', () => {
    const log = new UserLog();
    for (const { key, ids } of RECORDS) log.add(key, ids);
    expect(log.spilled).toBe(false);
    expect(log.length).toBe(RECORDS.length);
    expect(readBack(log)).toEqual(expected);
    // Every partition is there, in ascending order (the budget reads a partition at a time).
    const parts = [...log].map(([key]) => partitionOf(key));
    expect(new Set(parts).size).toBe(64);
    expect(parts).toEqual([...parts].sort((a, b) => a - b));
    log.close();
  });

  it('gives back exactly the same records, in the same order, once spilled to disk', () => {
    const log = new UserLog({ memoryBytes: 50_000 });
    for (const { key, ids } of RECORDS) log.add(key, ids);
    expect(log.spilled).toBe(true);
    expect(log.length).toBe(RECORDS.length);
    expect(readBack(log)).toEqual(expected);
    // Keys come back 4-byte aligned, so the aggregator reads them as words without copying.
    for (const [key] of log) expect(key.byteOffset % 4).toBe(0);
    log.close();
  });

  it('deletes its temporary file on close', () => {
    const tmp = mkdtempSync(path.join(os.tmpdir(), 'user-log-test-'));
    const before = process.env.TMPDIR;
    process.env.TMPDIR = tmp;
    try {
      const log = new UserLog({ memoryBytes: 1 });
      log.add(RECORDS[0]!.key, [1, 2]);
      expect(readdirSync(tmp).filter((f) => f.startsWith('opencloak-run-'))).toHaveLength(1);
      log.close();
      expect(readdirSync(tmp)).toEqual([]);
      expect([...log]).toEqual([]);
    } finally {
      if (before === undefined) delete process.env.TMPDIR;
      else process.env.TMPDIR = before;
      rmSync(tmp, { recursive: true, force: true });
    }
  });
});
