// A shard's partial replays exactly the outcomes the sandbox gave, and a damaged one fails loudly.
import { describe, expect, it } from 'vitest';
import { userKey, type UserKey } from '../../anonymizer/index.ts';
import type { UserOutcome } from '../../sandbox/index.ts';
import { PartialBuilder, replayPartial } from './shard-partial.ts';
import { shardOf } from './shard-users.ts';

const SECRET = new Uint8Array(32).fill(3);

describe('shard partials', () => {
  it('replay every user with their outcome, in order, one key object per user', () => {
    const outcomes: Array<[string, UserOutcome]> = [
      [
        'u1',
        {
          ok: true,
          properties: [
            ['city', 'Oslo'],
            ['age', '30'],
          ],
        },
      ],
      ['u2', { ok: false, error: 'boom' }],
      ['u3', { ok: true, properties: [] }],
      ['u4', { ok: true, properties: [['city', 'Oslo']] }],
    ];
    const builder = new PartialBuilder();
    for (const [id, outcome] of outcomes) builder.add(userKey(SECRET, id), outcome);
    // Through the database and back.
    const carried: unknown = JSON.parse(JSON.stringify(builder.partial));
    const replayed: Array<[UserKey, UserOutcome]> = [];
    const ran = replayPartial(carried, (key, outcome) => replayed.push([key, outcome]));
    expect(ran).toBe(4);
    // A user who reported nothing counts for nobody, in-process as here.
    const expected = outcomes.filter(([, o]) => !o.ok || o.properties.length > 0);
    expect(replayed.map(([key, o]) => [Buffer.from(key).toString('hex'), o])).toEqual(
      expected.map(([id, o]) => [Buffer.from(userKey(SECRET, id)).toString('hex'), o]),
    );
    // The bucket "city: Oslo" is listed once for the shard.
    expect(builder.partial.identities).toHaveLength(3);
  });

  it('refuse a partial of another version, a bad key or an index outside the list', () => {
    const count = () => undefined;
    expect(() => replayPartial({ v: 2, identities: [], users: [], ran: 0 }, count)).toThrow(
      /version 1/,
    );
    const key = Buffer.from(userKey(SECRET, 'u')).toString('base64');
    expect(() =>
      replayPartial({ v: 1, identities: [], users: [['AAAA', 0]], ran: 1 }, count),
    ).toThrow(/key and its buckets/);
    expect(() =>
      replayPartial({ v: 1, identities: [['p', 'a', 'b']], users: [[key, 4]], ran: 1 }, count),
    ).toThrow(/outside its list/);
  });

  it('put every user in one shard, the same each time, and spread users over the shards', () => {
    const counts = [0, 0, 0, 0];
    for (let u = 0; u < 4000; u++) {
      const key = userKey(SECRET, `user-${u}`);
      const shard = shardOf(key, 4);
      expect(shardOf(userKey(SECRET, `user-${u}`), 4)).toBe(shard);
      counts[shard]!++;
    }
    for (const n of counts) expect(n).toBeGreaterThan(850);
  });
});
