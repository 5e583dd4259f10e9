// The example tasks the demo creates: each shows one idiom of the task language.
import type { PrefetchSpec } from '../shared/index.ts';

export interface DemoTask {
  name: string;
  prefetch: PrefetchSpec[];
  code: string;
}

export const DEMO_TASKS: DemoTask[] = [
  {
    name: 'Height distribution',
    prefetch: [{ table: 'profile' }],
    code: `for (const p of tables.profile) report_property("height", Utils.quantize(p.height, 10));`,
  },
  {
    name: 'Users per city',
    prefetch: [{ table: 'profile' }],
    code: `for (const p of tables.profile) report_property("city", p.city);`,
  },
  {
    name: 'Big spenders',
    prefetch: [{ table: 'purchases', where: [{ $$amount: { $gt: 100 } }] }],
    code: `if (tables.purchases.length > 0) report_property("purchase", "more_than_100");`,
  },
  {
    name: 'Average purchase by age group',
    prefetch: [{ table: 'profile' }, { table: 'purchases' }],
    code: [
      'const age = tables.profile[0] ? tables.profile[0].age : undefined;',
      'if (age === undefined) throw new Error("no profile row");',
      'const amounts = tables.purchases.map((p) => p.amount);',
      'const group = Utils.quantize(age, 20) + "-" + (Utils.quantize(age, 20) + 19);',
      'if (amounts.length === 0) report_property("no purchases, age", group);',
      'else {',
      '  const avg = amounts.reduce((a, b) => a + b, 0) / amounts.length;',
      '  report_property("average purchase, age " + group, Utils.quantize(avg, 25));',
      '}',
    ].join('\n'),
  },
];
