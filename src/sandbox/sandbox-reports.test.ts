// What a run reports: distinct stringified properties, lookups through the host, the accumulator, exception messages.
import { describe, expect, it } from 'vitest';
import { compileTask } from './index.ts';
import { reports, runOne, runUsers } from './test-support.ts';

describe('report_property', () => {
  it('reports each distinct (label, value) pair once, in first-report order', async () => {
    const outcome = await runOne(
      `for (const p of tables.purchases) {
         report_property("purchase", p.amount > 100 ? "more_than_100" : "small");
         report_property("shop", p.shop);
       }`,
      {
        tables: {
          purchases: [
            { amount: 150, shop: 'a' },
            { amount: 20, shop: 'b' },
            { amount: 300, shop: 'a' },
          ],
        },
      },
    );
    expect(outcome).toEqual({
      ok: true,
      properties: [
        ['purchase', 'more_than_100'],
        ['shop', 'a'],
        ['purchase', 'small'],
        ['shop', 'b'],
      ],
    });
  });

  it('converts labels and values with String()', async () => {
    const outcome = await runOne(`
      report_property("number", 140);
      report_property("float", 2.5);
      report_property("bool", false);
      report_property("null", null);
      report_property("undefined", undefined);
      report_property("array", [1, 2]);
      report_property("object", { toString() { return "custom"; } });
      report_property("symbol", Symbol("s"));
      report_property(2015, "numeric label");
      report_property("number", "140");`);
    expect(reports(outcome)).toEqual([
      'number=140',
      'float=2.5',
      'bool=false',
      'null=null',
      'undefined=undefined',
      'array=1,2',
      'object=custom',
      'symbol=Symbol(s)',
      '2015=numeric label',
    ]);
  });

  it('reports nothing for a user whose code reports nothing', async () => {
    expect(await runOne(`const x = 1;`)).toEqual({ ok: true, properties: [] });
  });

  it('gives each user only that user’s rows', async () => {
    const outcomes = await runUsers(`report_property("rows", tables.visits.length);`, [
      { tables: { visits: [{ n: 1 }] } },
      { tables: { visits: [{ n: 1 }, { n: 2 }, { n: 3 }] } },
      { tables: { visits: [] } },
    ]);
    expect(outcomes.map(reports)).toEqual([['rows=1'], ['rows=3'], ['rows=0']]);
  });

  it('passes every cell type through unchanged', async () => {
    const outcome = await runOne(
      `const r = tables.t[0];
       report_property("types", [typeof r.s, typeof r.n, typeof r.b, r.z === null].join());
       report_property("values", [r.s, r.n, r.b].join("|"));`,
      { tables: { t: [{ s: 'é ✓ "q"', n: -1.25, b: true, z: null }] } },
    );
    expect(reports(outcome)).toEqual([
      'types=string,number,boolean,true',
      'values=é ✓ "q"|-1.25|true',
    ]);
  });
});

describe('large users', () => {
  it('takes a user with 50,000 rows and one reporting the most (10,000) long properties', async () => {
    const rows = Array.from({ length: 50_000 }, (_, i) => ({
      i,
      text: `row ${i} ${'x'.repeat(40)}`,
    }));
    const outcomes = await runUsers(
      `report_property("rows", tables.t.length);
       report_property("sum", tables.t.reduce((s, r) => s + r.i, 0));
       if (tables.t.length === 1) for (let i = 0; i < 9998; i++) report_property("p".repeat(900), i + "y".repeat(900));`,
      [{ tables: { t: rows } }, { tables: { t: [{ i: 0, text: '' }] } }],
      // What is tested is size, not speed: the interpreter (--jitless) on a busy machine may take
      // longer than the tests' usual 1 s per user for 50,000 rows or 10,000 long properties.
      { timeoutMs: 60_000 },
    );
    expect(reports(outcomes[0]!)).toEqual(['rows=50000', 'sum=1249975000']);
    expect(outcomes[1]).toMatchObject({ ok: true });
    expect(outcomes[1]!.ok && outcomes[1]!.properties.length).toBe(10_000);
  });
});

describe('lookup', () => {
  const host = {
    lookup: (table: string, key: string) =>
      table === 'cities'
        ? ({ '1': 'Berlin', '2': 'Paris' } as Record<string, string>)[key]
        : undefined,
  };

  it('answers from the host, converting the key with String(), and undefined when absent', async () => {
    const outcome = await runOne(
      `report_property("one", lookup("cities", 1));
       report_property("two", lookup("cities", "2"));
       report_property("missing", typeof lookup("cities", "3"));
       report_property("other", typeof lookup("countries", "1"));`,
      { tables: {} },
      host,
    );
    expect(reports(outcome)).toEqual([
      'one=Berlin',
      'two=Paris',
      'missing=undefined',
      'other=undefined',
    ]);
  });

  it('is always undefined without a host', async () => {
    expect(reports(await runOne(`report_property("v", typeof lookup("cities", "1"));`))).toEqual([
      'v=undefined',
    ]);
  });

  it('turns a failing host lookup into a stable exception for that user', async () => {
    const outcome = await runOne(
      `lookup("cities", "1");`,
      { tables: {} },
      {
        lookup: () => {
          throw new Error('database is locked at /var/lib/cloak.db');
        },
      },
    );
    expect(outcome).toEqual({
      ok: false,
      error: 'Error: lookup: the lookup table could not be read',
    });
  });
});

describe('accumulator', () => {
  const counter = `accumulator = { visits: (accumulator ? accumulator.visits : 0) + tables.v.length };
                   report_property("visits", accumulator.visits);`;

  it('round-trips: the returned state is the next run’s input', async () => {
    const program = compileTask(counter);
    try {
      const first = await program.runUser({ tables: { v: [{}, {}] } });
      expect(first).toEqual({
        ok: true,
        properties: [['visits', '2']],
        accumulator: { visits: 2 },
      });
      const second = await program.runUser({ tables: { v: [{}] }, accumulator: first.accumulator });
      expect(second).toEqual({
        ok: true,
        properties: [['visits', '3']],
        accumulator: { visits: 3 },
      });
    } finally {
      program.dispose();
    }
  });

  it('is absent when the task leaves none, and passes through when the task ignores it', async () => {
    expect(await runOne(`report_property("a", 1);`)).toEqual({
      ok: true,
      properties: [['a', '1']],
    });
    expect(await runOne(`report_property("a", 1);`, { tables: {}, accumulator: [1, 'x'] })).toEqual(
      {
        ok: true,
        properties: [['a', '1']],
        accumulator: [1, 'x'],
      },
    );
    expect(await runOne(`accumulator = undefined;`, { tables: {}, accumulator: 5 })).toEqual({
      ok: true,
      properties: [],
    });
  });

  it('rejects a state that is not JSON and keeps the previous one', async () => {
    const cyclic = await runOne(`accumulator = {}; accumulator.self = accumulator;`, {
      tables: {},
      accumulator: { kept: true },
    });
    expect(cyclic).toMatchObject({ ok: false, accumulator: { kept: true } });
    expect(!cyclic.ok && cyclic.error).toMatch(
      /^TypeError: the accumulator is not JSON-serializable \(TypeError: Converting circular structure to JSON/,
    );
    expect(await runOne(`accumulator = () => 1;`)).toEqual({
      ok: false,
      error: 'TypeError: the accumulator is not JSON-serializable (it is a function)',
    });
    expect(await runOne(`accumulator = 10n;`)).toEqual({
      ok: false,
      error:
        'TypeError: the accumulator is not JSON-serializable (TypeError: Do not know how to serialize a BigInt)',
    });
  });

  it('keeps the previous state when the run fails', async () => {
    expect(
      await runOne(`accumulator = 99; throw new Error("late failure");`, {
        tables: {},
        accumulator: 1,
      }),
    ).toEqual({
      ok: false,
      error: 'Error: late failure',
      accumulator: 1,
    });
  });
});

describe('exceptions', () => {
  it('formats a thrown Error as "Name: message" and anything else with String()', async () => {
    expect(await runOne(`null.x;`)).toEqual({
      ok: false,
      error: "TypeError: Cannot read properties of null (reading 'x')",
    });
    expect(await runOne(`throw new RangeError("too far");`)).toEqual({
      ok: false,
      error: 'RangeError: too far',
    });
    expect(await runOne(`throw new Error();`)).toEqual({ ok: false, error: 'Error' });
    expect(await runOne(`throw 42;`)).toEqual({ ok: false, error: '42' });
    expect(await runOne(`throw "plain text";`)).toEqual({ ok: false, error: 'plain text' });
    expect(await runOne(`throw Object.create(null);`)).toEqual({
      ok: false,
      error: 'Error: the task threw a value that cannot be converted to a string',
    });
  });

  it('cuts messages to 300 characters and never shows a stack or a host path', async () => {
    const long = await runOne(`throw new Error("x".repeat(5000));`);
    expect(long).toEqual({ ok: false, error: `Error: ${'x'.repeat(293)}` });
    const deep = await runOne(`function f() { return f(); } f();`);
    expect(deep).toEqual({ ok: false, error: 'RangeError: Maximum call stack size exceeded' });
    const typeError = await runOne(`tables.missing.length;`);
    expect(!typeError.ok && typeError.error).toBe(
      "TypeError: Cannot read properties of undefined (reading 'length')",
    );
  });

  it('counts an unhandled promise rejection as that user’s exception', async () => {
    expect(
      await runOne(`Promise.reject(new RangeError("nope")); report_property("a", 1);`),
    ).toEqual({
      ok: false,
      error: 'Unhandled promise rejection: RangeError: nope',
    });
    expect(await runOne(`(async () => { throw 7; })();`)).toEqual({
      ok: false,
      error: 'Unhandled promise rejection: 7',
    });
    expect(
      await runOne(
        `Promise.reject(new Error("handled")).catch(() => {}); report_property("a", 1);`,
      ),
    ).toEqual({
      ok: true,
      properties: [['a', '1']],
    });
  });

  it('makes the same failure give the same message for every user', async () => {
    const outcomes = await runUsers(`report_property("x", tables.t[0].value.toFixed(1));`, [
      { tables: { t: [{ value: 'a' }] } },
      { tables: { t: [{ value: 'b' }] } },
    ]);
    expect(outcomes).toEqual([
      { ok: false, error: 'TypeError: tables.t[0].value.toFixed is not a function' },
      { ok: false, error: 'TypeError: tables.t[0].value.toFixed is not a function' },
    ]);
  });
});
