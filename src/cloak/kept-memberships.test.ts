// Kept memberships: users left out of nothing read from the run's own log, the others from their own list; the same users and properties as a full log.
import { describe, expect, it } from 'vitest';
import { userKey } from '../anonymizer/index.ts';
import { KeptMemberships, type BucketPairs } from './kept-memberships.ts';
import { UserLog } from './user-log.ts';

/** Buckets 0-5 are properties, 6 an exception. */
const PAIRS: BucketPairs = [
  ['city', 'a'],
  ['city', 'b'],
  ['city', 'c'],
  ['age', '1'],
  ['age', '2'],
  ['', ''],
  undefined,
];
const SHOWN = new Set(['city=a', 'age=1']);
const shown = (label: string, value: string) => SHOWN.has(`${label}=${value}`);
const hex = (key: Uint8Array) => Buffer.from(key).toString('hex');

describe('KeptMemberships', () => {
  it.each([
    ['in memory', undefined],
    ['spilled to temporary files', 1000],
  ])(
    'finds the users none of whose kept properties is shown, as a full log would (%s)',
    (_, memoryBytes) => {
      const options = memoryBytes === undefined ? {} : { memoryBytes };
      const users = new UserLog(options);
      const secret = new Uint8Array(32).fill(3);
      // Each user's buckets (some only the exception), and for every third user the buckets the
      // budget kept when it left them out of others.
      const all = Array.from({ length: 2000 }, (_, u) => {
        // Every 50th user reported only an exception: no property, so never in "*".
        const ids = u % 50 === 0 ? [6] : [...new Set([u % 7, (u * 3) % 7, (u * 5 + 1) % 7])];
        const kept = u % 3 === 0 ? ids.filter((id) => id % 2 === 1) : undefined;
        return { key: userKey(secret, `u${u}`), ids, kept };
      });
      for (const { key, ids } of all) users.add(key, ids);
      const byKey = new Map(all.map((u) => [hex(u.key), u]));

      const memberships = new KeptMemberships(users, options);
      memberships.reset(PAIRS);
      // As the settlement does: in the log's order, the user's place and their kept properties.
      let index = 0;
      for (const [key] of users) {
        const user = byKey.get(hex(key))!;
        if (user.kept) {
          memberships.keepOnly(
            index,
            key,
            user.kept.filter((id) => PAIRS[id] !== undefined),
          );
        }
        index++;
      }

      const propertiesOf = (u: (typeof all)[number]) =>
        (u.kept ?? u.ids).filter((id) => PAIRS[id] !== undefined).map((id) => PAIRS[id]!);
      const expected = all
        .filter((u) => {
          const properties = propertiesOf(u);
          return properties.length > 0 && !properties.some(([l, v]) => shown(l, v));
        })
        .map((u) => hex(u.key))
        .sort();
      const found = [...memberships.usersWithNone(shown)].map(hex).sort();
      expect(found).toEqual(expected);
      // The empty pair is a property like any other; only the exception (undefined) is none.
      expect(expected.length).toBeGreaterThan(100);

      const read = new Map(
        [...memberships].map(({ key, properties }) => [
          hex(key),
          [...properties].map((p) => p.join('=')),
        ]),
      );
      for (const u of all) {
        const properties = propertiesOf(u).map((p) => p.join('='));
        if (properties.length === 0) expect(read.has(hex(u.key))).toBe(false);
        else expect(read.get(hex(u.key))?.sort()).toEqual(properties.sort());
      }

      // Charged again (prices moved): everyone kept everything until told otherwise.
      memberships.reset(PAIRS);
      const everyone = all
        .filter((u) => {
          const properties = u.ids.filter((id) => PAIRS[id] !== undefined).map((id) => PAIRS[id]!);
          return properties.length > 0 && !properties.some(([l, v]) => shown(l, v));
        })
        .map((u) => hex(u.key))
        .sort();
      expect([...memberships.usersWithNone(shown)].map(hex).sort()).toEqual(everyone);
      memberships.close();
      users.close();
    },
  );
});
