// The cloak API's data administration over TLS: table versions, lookup tables used by tasks
// (upload, replace, remove), and forgetting a user.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { TestKey } from '../support/https-client.ts';
import { startTestInstallation, type TestInstallation } from '../support/installation.ts';

/** Enough for a bucket of all of them to be published (its noisy count must reach 43). */
const USERS = 100;

describe('cloak data administration', () => {
  let inst: TestInstallation;
  let orgId: string;
  let admin: TestKey;
  let upload: TestKey;
  let runner: TestKey;

  beforeAll(async () => {
    inst = await startTestInstallation();
    orgId = await inst.createOrg('Data admin');
    admin = await inst.issueKey(orgId, 'admin');
    upload = await inst.issueKey(orgId, 'upload_any');
    runner = await inst.issueKey(orgId, 'task_runner');
  });
  afterAll(() => inst.stop());

  const run = async (code: string) => {
    const response = await inst.cloak('/task/run', {
      key: runner,
      body: { prefetch: [{ table: 'visits' }], post_processing: { code } },
    });
    expect(response.status, response.text).toBe(200);
    return response.json.buckets as Array<{ label: string; value: string; count: number }>;
  };

  it('versions schema changes and names what is wrong', async () => {
    const created = await inst.cloak('/tables', {
      key: admin,
      body: { name: 'visits', columns: [{ name: 'city_id', type: 'integer' }] },
    });
    expect(created.status).toBe(201);
    expect(created.json.table.version).toBe(1);
    const altered = await inst.cloak('/tables/visits', {
      key: admin,
      method: 'PATCH',
      body: { add: [{ name: 'note', type: 'varchar(5)' }] },
    });
    expect(altered.json.table).toMatchObject({ version: 2 });
    const dropped = await inst.cloak('/tables/visits', {
      key: admin,
      method: 'PATCH',
      body: { drop: ['note'] },
    });
    expect(dropped.json.table).toEqual({
      name: 'visits',
      columns: [{ name: 'city_id', type: 'integer' }],
      version: 3,
    });
    const bad = await inst.cloak('/tables/visits', {
      key: admin,
      method: 'PATCH',
      body: { add: [{ name: 'x', type: 'varchar(0)' }] },
    });
    expect(bad.status).toBe(422);
    expect(bad.json.error).toContain('varchar(0)');
    const unknown = await inst.cloak('/tables/visitz', { key: admin, method: 'DELETE' });
    expect(unknown.status).toBe(422);
    expect(unknown.json.error).toContain('"visitz"');
  });

  it('uploads, replaces and removes a lookup table that tasks read with lookup()', async () => {
    const body: Record<string, unknown> = {};
    for (let i = 0; i < USERS; i++) body[`u${i}`] = { visits: [{ city_id: 1 }] };
    expect((await inst.cloak('/bulk_insert', { key: upload, body })).status).toBe(200);
    const code = 'report_property("city", String(lookup("cities", tables.visits[0].city_id)));';

    const put = (pairs: unknown) =>
      inst.cloak('/lookup_tables/cities', { key: admin, method: 'PUT', body: pairs });
    expect(
      (
        await put([
          [1, 'Berlin'],
          ['2', 'Paris'],
        ])
      ).status,
    ).toBe(200);
    expect((await inst.cloak('/lookup_tables', { key: admin })).json.lookup_tables).toEqual([
      'cities',
    ]);
    expect((await run(code)).map((b) => b.value)).toEqual(['Berlin']);

    // Further runs over the same users would meet the privacy budget; the store answers lookup() directly.
    const lookup = (key: string) => inst.platform.cloak.data.sync!.lookup(orgId, 'cities', key);
    expect((await put([[1, 'Hamburg']])).status).toBe(200);
    expect([lookup('1'), lookup('2')]).toEqual(['Hamburg', undefined]);

    const duplicate = await put([
      [1, 'a'],
      ['1', 'b'],
    ]);
    expect(duplicate.status).toBe(422);
    expect(lookup('1')).toBe('Hamburg');

    const removed = await inst.cloak('/lookup_tables/cities', { key: admin, method: 'DELETE' });
    expect(removed.status).toBe(200);
    expect(lookup('1')).toBeUndefined();
    expect((await inst.cloak('/lookup_tables', { key: admin })).json.lookup_tables).toEqual([]);
  });

  it('forgets a user: every row of theirs in every table, and only theirs', async () => {
    const created = await inst.cloak('/tables', {
      key: admin,
      body: { name: 'buys', columns: [{ name: 'amount', type: 'double' }] },
    });
    expect(created.status).toBe(201);
    const rows = (table: string) => inst.platform.cloak.data.sync!.rowCount(orgId, table);
    const body = {
      'gone user': { visits: [{ city_id: 7 }, { city_id: 8 }], buys: [{ amount: 1 }] },
      stays: { buys: [{ amount: 2 }] },
    };
    expect((await inst.cloak('/bulk_insert', { key: upload, body })).status).toBe(200);
    const before = { visits: rows('visits'), buys: rows('buys') };

    const forgot = await inst.cloak(`/users/${encodeURIComponent('gone user')}`, {
      key: admin,
      method: 'DELETE',
    });
    expect(forgot.status).toBe(200);
    expect(forgot.json).toEqual({ success: true, rows_removed: 3 });
    expect({ visits: rows('visits'), buys: rows('buys') }).toEqual({
      visits: before.visits - 2,
      buys: before.buys - 1,
    });
    const again = await inst.cloak('/users/gone%20user', { key: admin, method: 'DELETE' });
    expect(again.json.rows_removed).toBe(0);
    expect((await inst.cloak('/users/stays', { key: upload, method: 'DELETE' })).status).toBe(401);
    expect(rows('buys')).toBe(before.buys - 1);
  });
});
