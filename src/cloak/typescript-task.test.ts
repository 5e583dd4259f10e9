import { describe, expect, it } from 'vitest';
import { compileTypeScriptTask, type TableShape } from './typescript-task.ts';

const TABLES: TableShape[] = [
  {
    name: 'purchases',
    columns: [
      { name: 'amount', type: 'double' },
      { name: 'item', type: 'varchar(20)' },
      { name: 'paid', type: 'boolean' },
    ],
  },
];

describe('TypeScript tasks', () => {
  it('transpiles typed code that uses the tables and the task API into plain JavaScript', () => {
    const js = compileTypeScriptTask(
      `const big: number = tables.purchases.filter((p) => (p.amount ?? 0) > 100).length;
interface Summary { big: number }
const s: Summary = { big };
report_property("big purchases", Utils.quantize(s.big, 5));
report_property("weekday", DateTime.day(to_date(0).year));`,
      TABLES,
    );
    expect(js).not.toMatch(/interface|: number|: Summary/);
    expect(js).toContain('report_property("big purchases"');
  });

  it('reports a column the tables do not have, with line and column', () => {
    expect(() =>
      compileTypeScriptTask(`let n = 0;\nfor (const p of tables.purchases) n += p.amout;`, TABLES),
    ).toThrow(/line 2, column 42: Property 'amout' does not exist.*Did you mean 'amount'/);
  });

  it('reports a table that is not selected, a wrong argument type and a syntax error', () => {
    expect(() => compileTypeScriptTask('tables.visits.length;', TABLES)).toThrow(
      /line 1, column 8: Property 'visits' does not exist/,
    );
    expect(() => compileTypeScriptTask('to_date({});', TABLES)).toThrow(/line 1, column 9/);
    expect(() => compileTypeScriptTask('const = 3;', TABLES)).toThrow(/line 1, column 7/);
  });

  it('sees null in nullable columns, as the data can hold it', () => {
    expect(() =>
      compileTypeScriptTask('const x: number = tables.purchases[0]!.amount;', TABLES),
    ).toThrow(/Type 'number \| null' is not assignable to type 'number'/);
  });

  it('does not let task names collide with the standard library', () => {
    expect(() => compileTypeScriptTask('const name = 1; const length = 2;', TABLES)).not.toThrow();
  });
});
