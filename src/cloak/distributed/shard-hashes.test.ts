// The worker's memo of shard hashes puts every user in the shard the keyed hash says, first time and from memory.
import { describe, expect, it } from 'vitest';
import { userKey } from '../../anonymizer/index.ts';
import { shardOf, ShardHashes } from './shard-users.ts';

const SECRET = new Uint8Array(32).fill(9);

describe('ShardHashes', () => {
  it('agrees with shardOf for every shard count, whether the hash is new or remembered', () => {
    const hashes = new ShardHashes(SECRET);
    const ids = Array.from({ length: 1000 }, (_, i) => `user-${i}`);
    for (const round of [1, 2]) {
      for (let of = 1; of <= 9; of++) {
        for (let index = 0; index < of; index++) {
          const mine = ids.filter(hashes.inShard({ index, of }));
          const expected = ids.filter((id) => shardOf(userKey(SECRET, id), of) === index);
          expect(mine, `round ${round}, shard ${index} of ${of}`).toEqual(expected);
        }
      }
    }
  });
});
