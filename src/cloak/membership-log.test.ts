// The membership log: every user's properties back in the same order (by partition), from memory and once spilled to disk.
import { describe, expect, it } from 'vitest';
import { BucketAggregator, userKey, type UserMembership } from '../anonymizer/index.ts';
import { suppressedUsers } from '../anonymizer/suppression-bucket.ts';
import { partitionOf } from './budget-pages.ts';
import { MembershipLog } from './membership-log.ts';

describe('MembershipLog', () => {
  it.each([
    ['in memory', undefined, false],
    ['spilled to its temporary file', 1000, true],
  ])(
    'gives back every user with their key and properties, by partition (%s)',
    (_, memoryBytes, spilled) => {
      const log = new MembershipLog(memoryBytes === undefined ? {} : { memoryBytes });
      const secret = new Uint8Array(32).fill(9);
      const expected = Array.from({ length: 3000 }, (_, u) => ({
        key: userKey(secret, `u${u}`),
        properties: Array.from({ length: u % 4 }, (_, i) => [`l${i}`, `v${(u + i) % 5}`] as const),
      }));
      for (const { key, properties } of expected) log.add(key, properties);
      expect(log.users).toBe(3000);
      expect(log.spilled).toBe(spilled);
      const read = [...log].map(({ key, properties }) => ({
        key: Buffer.from(key).toString('hex'),
        properties: [...properties],
      }));
      // Partition by partition of the keys, in the order added within each (a stable sort).
      const byPartition = [...expected].sort((a, b) => partitionOf(a.key) - partitionOf(b.key));
      expect(read).toEqual(
        byPartition.map(({ key, properties }) => ({
          key: Buffer.from(key).toString('hex'),
          properties,
        })),
      );
      log.close();
    },
  );

  it('finds the suppression bucket’s users as the anonymizer does over plain memberships', () => {
    const log = new MembershipLog({ memoryBytes: 4000 });
    const plain: UserMembership[] = [];
    const agg = new BucketAggregator();
    const secret = new Uint8Array(32).fill(3);
    for (let u = 0; u < 500; u++) {
      const key = userKey(secret, `u${u}`);
      const properties = Array.from(
        { length: u % 4 },
        (_, i) => ['l', `v${(u * 7 + i) % 11}`] as const,
      );
      for (const [label, value] of properties) agg.addProperty(label, value, key);
      log.add(key, properties);
      plain.push({ key, properties });
    }
    expect(log.spilled).toBe(true);
    // Published: the even values only, so users with only odd values are suppressed.
    const isPublished = (b: { identity: { kind: string; value?: string } }) =>
      Number(b.identity.value!.slice(1)) % 2 === 0;
    const hex = (keys: Iterable<Uint8Array>) =>
      [...keys].map((k) => Buffer.from(k).toString('hex')).sort();
    const fromLog = hex(suppressedUsers(agg, log, isPublished));
    expect(fromLog.length).toBeGreaterThan(20);
    expect(fromLog).toEqual(hex(suppressedUsers(agg, plain, isPublished)));
    log.close();
  });

  it('takes properties by their index in a table, giving back what add() would', () => {
    const secret = new Uint8Array(32).fill(4);
    const table = [
      ['city', 'Berlin'],
      ['city', 'Oslo'],
      ['age', '30'],
    ] as const;
    const byText = new MembershipLog();
    const byIndex = new MembershipLog();
    for (let u = 0; u < 500; u++) {
      const ids = [u % 3, ...(u % 2 === 0 ? [(u + 1) % 3] : [])];
      byText.add(
        userKey(secret, `u${u}`),
        ids.map((i) => table[i]!),
      );
      byIndex.addIndexes(userKey(secret, `u${u}`), Int32Array.from(ids), table);
    }
    const read = (log: MembershipLog) =>
      [...log].map(({ key, properties }) => [Buffer.from(key).toString('hex'), [...properties]]);
    expect(read(byIndex)).toEqual(read(byText));
    const oslo = (label: string, value: string) => label === 'city' && value === 'Oslo';
    expect([...byIndex.usersWithNone(oslo)].length).toBeGreaterThan(100);
    expect([...byIndex.usersWithNone(oslo)]).toEqual([...byText.usersWithNone(oslo)]);
    // One table per log, and not mixed with add()'s own texts.
    expect(() => byIndex.addIndexes(userKey(secret, 'x'), [0], [...table])).toThrow(/one table/);
    expect(() => byIndex.add(userKey(secret, 'x'), [['city', 'Rome']])).toThrow(/addIndexes/);
    byText.close();
    byIndex.close();
  });
});
