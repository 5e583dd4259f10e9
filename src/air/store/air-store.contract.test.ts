// The air stores' contract, one suite run on SQLite and on PostgreSQL: what callers rely on, errors included.
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { AppError } from '../../errors/index.ts';
import { TEST_DIALECTS, type TestDb } from '../../store/test-support.ts';
import { airStoreOn, describeAirData, type AirStore, type ApiKeyRecord } from './index.ts';

const key = (orgId: string, id: string, ownerId: string | null): ApiKeyRecord => ({
  id,
  orgId,
  type: 'web_api',
  userId: null,
  description: 'd',
  serial: `serial-${id}`,
  createdAt: 1,
  expiresAt: 9e12,
  revokedAt: null,
  ownerId,
});

async function rejectsWith(promise: Promise<unknown>, code: string): Promise<void> {
  const error = await promise.then(
    () => undefined,
    (e: unknown) => e,
  );
  expect(error).toBeInstanceOf(AppError);
  expect((error as AppError).code).toBe(code);
}

describe.each(TEST_DIALECTS)('air store contract on $dialect', ({ open }) => {
  let testDb: TestDb;
  let store: AirStore;
  beforeEach(async () => {
    testDb = await open();
    store = await airStoreOn(testDb.db);
  });
  afterEach(() => testDb.cleanup());

  it('starts empty, and says so, until something is stored', async () => {
    expect(await describeAirData(store.db)).toBeUndefined();
    await store.organisations.create('Org');
    expect(await describeAirData(store.db)).toMatch(/rows in organisations/);
  });

  it('migrates once: opening the same database again applies nothing', async () => {
    const again = await airStoreOn(testDb.db);
    expect(await again.organisations.list()).toEqual([]);
  });

  it('refuses a second organisation of the same name, whatever its case', async () => {
    const org = await store.organisations.create('Acme');
    await rejectsWith(store.organisations.create('ACME'), 'NAME_TAKEN');
    expect(await store.organisations.findByName('acme')).toEqual(org);
    expect(await store.organisations.resolve(org.id)).toEqual(org);
    await rejectsWith(store.organisations.create(' bad'), 'INVALID_PARAMETER');
  });

  it('gives the clear error, not a driver error, when two servers create one name at once', async () => {
    const outcomes = await Promise.allSettled([
      store.organisations.create('Twice'),
      store.organisations.create('twice'),
    ]);
    expect(outcomes.filter((o) => o.status === 'fulfilled')).toHaveLength(1);
    const [refused] = outcomes.filter((o) => o.status === 'rejected');
    expect((refused as PromiseRejectedResult).reason).toMatchObject({ code: 'NAME_TAKEN' });
  });

  it('finds people by e-mail ignoring case, refuses a taken address, and keeps roles and levels', async () => {
    const org = await store.organisations.create('Org');
    const ada = await store.organisations.addAnalyst(org.id, 'Ada@X.test', 'Ada', 5, 'admin');
    await rejectsWith(store.organisations.addAnalyst(org.id, 'ada@x.TEST', 'Other'), 'NAME_TAKEN');
    await rejectsWith(store.organisations.addAnalyst(org.id, 'nope', 'N'), 'INVALID_PARAMETER');
    expect(await store.organisations.analystByEmail('ADA@x.test')).toEqual(ada);
    expect(await store.organisations.hasAdmin()).toBe(true);
    await store.organisations.setPasswordHash(ada.id, 'h');
    expect((await store.organisations.findLogin('ada@x.test'))?.passwordHash).toBe('h');
    expect(await store.organisations.setRole(ada.id, 'data_owner')).toBe(true);
    expect(await store.organisations.setRole('nobody', 'analyst')).toBe(false);
    expect(await store.organisations.accessLevelOf(ada.id, org.id)).toBe('untrusted');
    expect(await store.organisations.setAccessLevel(ada.id, 'trusted')).toBe(true);
    expect(await store.organisations.accessLevelOf(ada.id, org.id)).toBe('trusted');
    expect(await store.organisations.accessLevelOf(ada.id, 'other-org')).toBe('untrusted');
    expect(await store.organisations.accessLevelOf(null, org.id)).toBe('untrusted');
    expect((await store.organisations.listAnalysts(org.id)).map((a) => a.role)).toEqual([
      'data_owner',
    ]);
  });

  it("joins a key's owner's level in at every lookup, and revokes at once", async () => {
    const org = await store.organisations.create('Org');
    const ada = await store.organisations.addAnalyst(org.id, 'ada@x.test', 'Ada');
    await store.keys.insert(key(org.id, 'k1', ada.id));
    await store.keys.insert(key(org.id, 'k2', null));
    expect((await store.keys.status('serial-k1')).key?.accessLevel).toBe('untrusted');
    await store.organisations.setAccessLevel(ada.id, 'trusted');
    expect(await store.keys.status('serial-k1')).toMatchObject({
      status: 'active',
      key: { id: 'k1', orgId: org.id, accessLevel: 'trusted', revokedAt: null },
    });
    expect((await store.keys.status('serial-k2')).key?.accessLevel).toBe('untrusted');
    expect((await store.keys.status('serial-none')).status).toBe('unknown');
    const before = await store.keys.revocationStamp();
    expect(await store.keys.revoke(org.id, 'k1', 1000)).toBe(true);
    expect(await store.keys.revoke(org.id, 'k1', 2000)).toBe(false);
    expect(await store.keys.revoke('other', 'k2')).toBe(false);
    expect((await store.keys.status('serial-k1')).status).toBe('revoked');
    expect(await store.keys.revocationStamp()).not.toBe(before);
    expect(await store.keys.revocations(0)).toEqual([{ serial: 'serial-k1', revokedAt: 1000 }]);
    expect((await store.keys.list(org.id)).map((k) => k.id)).toEqual(['k1', 'k2']);
    expect((await store.keys.status('serial-k2', 9e12 + 1)).status).toBe('expired');
  });

  it('gives tasks numeric ids and letter tokens, refuses a taken name, and versions code changes', async () => {
    const org = await store.organisations.create('Org');
    const spec = { type: 'batch' as const, code: 'a', prefetch: [{ table: 't' }] };
    const task = await store.tasks.create(org.id, { name: 'one', ...spec }, 10);
    expect(typeof task.id).toBe('number');
    expect(task.token).toMatch(/^[a-z]/);
    await rejectsWith(store.tasks.create(org.id, { name: 'one', ...spec }), 'TASK_NAME_TAKEN');
    const two = await store.tasks.create(org.id, { name: 'two', ...spec });
    await rejectsWith(store.tasks.update(org.id, two.id, { name: 'one' }), 'TASK_NAME_TAKEN');
    const renamed = await store.tasks.update(org.id, task.id, { name: 'uno' }, 20);
    expect(renamed.codeVersion).toBe(1);
    const changed = await store.tasks.update(org.id, task.id, { code: 'b' }, 30);
    expect(changed).toMatchObject({ codeVersion: 2, updatedAt: 30, prefetch: spec.prefetch });
    expect(await store.tasks.byIdOrToken(org.id, String(task.id))).toEqual(changed);
    expect(await store.tasks.byIdOrToken(org.id, task.token)).toEqual(changed);
    expect(await store.tasks.byIdOrToken('other', task.token)).toBeUndefined();
    await store.tasks.markScheduled(task.id, 40);
    expect((await store.tasks.ofType('batch')).find((t) => t.id === task.id)?.lastScheduledAt).toBe(
      40,
    );
    expect((await store.tasks.list(org.id)).map((t) => t.name)).toEqual(['two', 'uno']);
  });

  it('pages results newest first, counts them, and deletes them with their task', async () => {
    const org = await store.organisations.create('Org');
    const task = await store.tasks.create(org.id, {
      name: 't',
      type: 'batch',
      code: '',
      prefetch: [],
    });
    for (const at of [100, 300, 200, 300]) {
      await store.results.publish(task.id, 1, { buckets: [], exceptions: [] }, at);
    }
    expect(await store.results.count(task.id)).toBe(4);
    const firstPage = await store.results.page(task.id, 1, 3);
    expect(firstPage.map((r) => r.publishedAt)).toEqual([300, 300, 200]);
    // Ties in publication time: the later insertion first.
    expect(firstPage[0]!.id).toBeGreaterThan(firstPage[1]!.id);
    const all = [];
    for await (const result of store.results.all(task.id, 2)) all.push(result.publishedAt);
    expect(all).toEqual([300, 300, 200, 100]);
    expect(await store.results.delete(task.id, firstPage[0]!.id)).toBe(true);
    expect(await store.results.delete(task.id, firstPage[0]!.id)).toBe(false);
    expect(await store.tasks.delete(org.id, task.id)).toBe(true);
    expect(await store.results.count(task.id)).toBe(0);
  });

  it('keeps the audit log newest first and never stores a secret', async () => {
    await store.audit.record({
      orgId: 'o',
      event: 'key.created',
      actor: 'cli',
      detail: { key: 'k', password: 'p', pfx: 'x' },
    });
    await store.audit.record({
      orgId: null,
      event: 'login.failed',
      actor: 'anonymous',
      detail: {},
    });
    const entries = await store.audit.list();
    expect(entries.map((e) => e.event)).toEqual(['login.failed', 'key.created']);
    expect(entries[1]!.detail).toEqual({ key: 'k' });
    expect((await store.audit.list('o')).map((e) => e.orgId)).toEqual(['o']);
  });

  it('keeps sessions by token hash with idle expiry, and known addresses per person', async () => {
    const org = await store.organisations.create('Org');
    const ada = await store.organisations.addAnalyst(org.id, 'ada@x.test', 'Ada');
    const { token, csrfToken } = await store.sessions.create(ada.id, 1000);
    expect(await store.db.get('SELECT 1 AS one FROM sessions WHERE token_hash = ?', [token])).toBe(
      undefined,
    );
    expect(await store.sessions.touch(token, 2000)).toEqual({
      analystId: ada.id,
      csrfToken,
      createdAt: 1000,
    });
    expect(await store.sessions.touch(token, 2000 + 13 * 3600_000)).toBeUndefined();
    expect(await store.sessions.touch(token, 2001)).toBeUndefined();
    expect(await store.knownAddresses.isKnown(ada.id, '10.0.0.1', 5)).toBe(false);
    await store.knownAddresses.remember(ada.id, '10.0.0.1', 5);
    await store.knownAddresses.remember(ada.id, '10.0.0.1', 6);
    expect(await store.knownAddresses.isKnown(ada.id, '10.0.0.1', 7)).toBe(true);
  });
});
