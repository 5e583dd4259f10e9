// The membership log: every user's properties back in order, from memory and once spilled to disk.
import { describe, expect, it } from 'vitest';
import { userKey } from '../anonymizer/index.ts';
import { MembershipLog } from './membership-log.ts';

describe('MembershipLog', () => {
  it.each([
    ['in memory', undefined, false],
    ['spilled to its temporary file', 1000, true],
  ])(
    'gives back every user with their key and properties, in order (%s)',
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
      expect(read).toEqual(
        expected.map(({ key, properties }) => ({
          key: Buffer.from(key).toString('hex'),
          properties,
        })),
      );
      log.close();
    },
  );
});
