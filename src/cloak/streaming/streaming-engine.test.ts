// A streaming pass spread over several sandbox processes keeps exactly what one process keeps.
import Database from 'better-sqlite3';
import { mkdtempSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { buildConfig } from '../../config/index.ts';
import { openCloak, type Cloak } from '../index.ts';

const ORG = 'org-streaming';
/** Three steps of 512 users and a bit: every process gets work, and one step is short. */
const USERS = 1300;
const CODE = `accumulator = (accumulator ?? 0) + tables.t.length;
report_property('rows', Utils.quantize(accumulator, 2));
if (tables.t[0].v % 97 === 0) throw new Error('unlucky');`;

describe('streaming pass on several processes', () => {
  const opened: Array<{ cloak: Cloak; dir: string }> = [];
  afterEach(async () => {
    for (const { cloak, dir } of opened.splice(0)) {
      await cloak.streaming.stop();
      await cloak.close();
      rmSync(dir, { recursive: true, force: true });
    }
  });

  /** Two arrivals per user, two passes; returns what the engine stored, user by user. */
  async function storedAfterTwoPasses(processes: number) {
    const dir = mkdtempSync(path.join(os.tmpdir(), 'opencloak-streaming-'));
    const cloak = await openCloak(
      buildConfig({ dataDir: dir, cloak: { sandboxProcesses: processes } }),
    );
    opened.push({ cloak, dir });
    await cloak.data.createTable(ORG, { name: 't', columns: [{ name: 'v', type: 'integer' }] });
    const upload = async (round: number) => {
      const rows: Record<string, unknown> = {};
      for (let u = 0; u < USERS; u++) rows[`u${u}`] = { t: [{ v: u + round }] };
      await cloak.data.insert(ORG, rows);
    };
    await upload(0);
    await cloak.streaming.register(ORG, 'task', { code: CODE, prefetch: [{ table: 't' }] });
    expect(await cloak.streaming.process()).toBe(USERS);
    await upload(1);
    expect(await cloak.streaming.process()).toBe(USERS);
    const db = new Database(path.join(dir, 'cloak.db'), { readonly: true });
    try {
      return db
        .prepare(
          'SELECT user_id, properties, error, accumulator FROM streaming_users ORDER BY user_id',
        )
        .all() as Array<{ user_id: string; error: string | null; accumulator: string | null }>;
    } finally {
      db.close();
    }
  }

  it('stores the same properties, errors and accumulators with 2 processes as with 1', async () => {
    const one = await storedAfterTwoPasses(1);
    const two = await storedAfterTwoPasses(2);
    expect(one).toHaveLength(USERS);
    expect(two).toEqual(one);
    // The second pass read the first pass's accumulators (rows 1 + 2); a run that failed keeps
    // the accumulator it was given, which for these users was none.
    const failed = one.filter((u) => u.error !== null);
    expect(failed.length).toBe(Math.ceil(USERS / 97));
    expect(failed.every((u) => u.accumulator === null)).toBe(true);
    expect(one.filter((u) => u.accumulator === '3')).toHaveLength(USERS - failed.length);
  });
});
