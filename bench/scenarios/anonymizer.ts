// Scenario: anonymizer tuples per second on one core, against plain (label, value) counting.
import { anonymize, BucketAggregator, userKey } from '../../src/anonymizer/index.ts';
import type { Scenario } from '../harness.ts';

const SECRET = new Uint8Array(32).fill(7);

/** 100k users x 10 (label, value) tuples over a few hundred buckets, like a typical task. */
function workload(size: 'small' | 'full') {
  const users = size === 'full' ? 200_000 : 20_000;
  const tuplesPerUser = 10;
  return { users, tuplesPerUser, tuples: users * tuplesPerUser };
}

function valueOf(user: number, j: number): string {
  return String((user * 31 + j * 7) % 50);
}

export const anonymizerScenario: Scenario = {
  name: 'anonymizer',
  description: 'aggregate + anonymize (user, label, value) tuples on one core vs a plain Map count',
  better: 'higher',
  targetValue: 1_000_000,
  sides: {
    async figure(size) {
      const { users, tuplesPerUser, tuples } = workload(size);
      const keys = Array.from({ length: users }, (_, u) => userKey(SECRET, `user-${u}`));
      const started = process.hrtime.bigint();
      const agg = new BucketAggregator();
      for (let u = 0; u < users; u++) {
        const key = keys[u]!;
        for (let j = 0; j < tuplesPerUser; j++) agg.addProperty(`label${j}`, valueOf(u, j), key);
      }
      const result = anonymize(agg, SECRET);
      const seconds = Number(process.hrtime.bigint() - started) / 1e9;
      return {
        value: tuples / seconds,
        unit: 'tuples/s',
        // userKey() runs once per user, not per tuple; its cost is part of the batch-task scenario.
        notes: { buckets: result.buckets.length },
      };
    },
    async baseline(size) {
      const { users, tuplesPerUser, tuples } = workload(size);
      const started = process.hrtime.bigint();
      const counts = new Map<string, Map<string, number>>();
      for (let u = 0; u < users; u++) {
        for (let j = 0; j < tuplesPerUser; j++) {
          const label = `label${j}`;
          let values = counts.get(label);
          if (!values) counts.set(label, (values = new Map()));
          const value = valueOf(u, j);
          values.set(value, (values.get(value) ?? 0) + 1);
        }
      }
      const seconds = Number(process.hrtime.bigint() - started) / 1e9;
      return {
        value: tuples / seconds,
        unit: 'tuples/s',
        notes: { buckets: [...counts.values()].reduce((s, m) => s + m.size, 0) },
      };
    },
  },
};
