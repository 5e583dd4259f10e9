// Every example in docs/tasks.md runs in the sandbox and matches the same code run as plain JavaScript.
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { NOISELESS_SETTINGS } from '../../src/anonymizer/index.ts';
import { TaskRunner } from '../../src/cloak/index.ts';
import { compileTypeScriptTask } from '../../src/cloak/typescript-task.ts';
import { startTestInstallation, type TestInstallation } from '../support/installation.ts';

const DOC = path.resolve(import.meta.dirname, '../../docs/tasks.md');
const examples = [...readFileSync(DOC, 'utf8').matchAll(/```(js|ts) example\n([\s\S]*?)```/g)].map(
  (m, i) => ({ index: i + 1, language: m[1] === 'ts' ? 'typescript' : 'javascript', code: m[2]! }),
);

const USERS = 60;
const AMOUNTS = [20, 60, 120, 180];
type Row = { amount: number; item: string; time: number };
const rowsOf = (u: number): Row[] =>
  Array.from({ length: 1 + (u % 4) }, (_, i) => ({
    amount: AMOUNTS[(u + i) % 4]!,
    item: `item${i}`,
    time: 1_700_000_000 + ((u * 7 + i) % 7) * 86_400,
  }));

/** The examples' code run directly, with the helpers they use, counting distinct users. */
function reference(code: string): Map<string, number> {
  const WEEKDAYS = ['Sunday', 'Monday', 'Tuesday', 'Wednesday', 'Thursday', 'Friday', 'Saturday'];
  const Utils = { quantize: (n: number, q: number) => Math.floor(n / q) * q };
  const DateTime = { day: (t: number) => WEEKDAYS[new Date(t * 1000).getUTCDay()] };
  const counts = new Map<string, number>();
  for (let u = 0; u < USERS; u++) {
    const seen = new Set<string>();
    const report = (label: unknown, value: unknown) => seen.add(`${label}: ${value}`);
    new Function('tables', 'report_property', 'Utils', 'DateTime', code)(
      { purchases: rowsOf(u) },
      report,
      Utils,
      DateTime,
    );
    for (const bucket of seen) counts.set(bucket, (counts.get(bucket) ?? 0) + 1);
  }
  return counts;
}

describe('task examples in docs/tasks.md', () => {
  let inst: TestInstallation;
  let orgId: string;
  let runner: TaskRunner;
  const columns = [
    { name: 'amount', type: 'double' as const },
    { name: 'item', type: 'text' as const },
    { name: 'time', type: 'integer' as const },
  ];

  beforeAll(async () => {
    inst = await startTestInstallation();
    orgId = await inst.createOrg('Docs');
    const { data } = inst.platform.cloak;
    await data.createTable(orgId, { name: 'purchases', columns });
    const rows: Record<string, unknown> = {};
    for (let u = 0; u < USERS; u++) rows[`user${u}`] = { purchases: rowsOf(u) };
    await data.insert(orgId, rows);
    // Exact counts: without noise the threshold is the floor plus one, so buckets of 1 or 2 users
    // stay hidden (docs/anonymization.md, "The threshold").
    runner = new TaskRunner(data, {
      secret: new Uint8Array(32).fill(1),
      limits: { timeoutMs: 1000, memoryLimitMb: 64, maxPropertiesPerUser: 1000 },
      runTimeoutSeconds: 60,
      anonymizer: { ...NOISELESS_SETTINGS, minRoundingStep: 1 },
    });
  });
  afterAll(() => inst.stop());

  it('has examples of every kind the documentation promises', () => {
    expect(examples.length).toBeGreaterThanOrEqual(8);
    expect(examples.some((e) => e.language === 'typescript')).toBe(true);
  });

  it.each(examples.map((e) => [e.index, e] as const))(
    'example %i runs as documented',
    async (_, e) => {
      const result = await runner.run(orgId, {
        prefetch: [{ table: 'purchases' }],
        post_processing: { code: e.code, language: e.language },
      });
      expect(result.exceptions).toEqual([]);
      const published = new Map(result.buckets.map((b) => [`${b.label}: ${b.value}`, b.count]));
      const javascript =
        e.language === 'typescript'
          ? compileTypeScriptTask(e.code, [{ name: 'purchases', columns }])
          : e.code;
      const expected = new Map(
        [...reference(javascript)].filter(([, users]) => users > NOISELESS_SETTINGS.absoluteFloor),
      );
      expect(published.size).toBeGreaterThan(0);
      expect(published).toEqual(expected);
    },
  );
});
