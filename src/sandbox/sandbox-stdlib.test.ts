// The task stdlib (to_date, Utils, DateTime), each function with exact expected outputs (checked against date(1)).
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { compileTask, type TaskProgram } from './index.ts';

/** One program evaluates every expression (via the compartment's Function) and reports its JSON. */
let program: TaskProgram;
beforeAll(() => {
  program = compileTask(`
    const { expr } = tables.q[0];
    const fns = { to_date, Utils, DateTime };
    let result;
    try {
      result = JSON.stringify(Function("fns", "const { to_date, Utils, DateTime } = fns; return (" + expr + ");")(fns));
    } catch (e) {
      result = "throws " + e.name + ": " + e.message;
    }
    report_property("result", result);`);
});
afterAll(() => program.dispose());

async function evaluate(expr: string): Promise<unknown> {
  const outcome = await program.runUser({ tables: { q: [{ expr }] } });
  if (!outcome.ok) throw new Error(outcome.error);
  const text = outcome.properties[0]![1];
  return text.startsWith('throws ') ? text : JSON.parse(text);
}

describe('to_date', () => {
  it('splits epoch seconds into UTC parts, wday 1 = Sunday, yday from 1', async () => {
    expect(await evaluate('to_date(1700000000)')).toEqual({
      year: 2023,
      month: 11,
      day: 14,
      hour: 22,
      min: 13,
      sec: 20,
      wday: 3,
      yday: 318,
    });
    expect(await evaluate('to_date(0)')).toEqual({
      year: 1970,
      month: 1,
      day: 1,
      hour: 0,
      min: 0,
      sec: 0,
      wday: 5,
      yday: 1,
    });
    expect(await evaluate('to_date(1709208000)')).toMatchObject({
      month: 2,
      day: 29,
      wday: 5,
      yday: 60,
    });
    expect(await evaluate('to_date(-1)')).toEqual({
      year: 1969,
      month: 12,
      day: 31,
      hour: 23,
      min: 59,
      sec: 59,
      wday: 4,
      yday: 365,
    });
  });

  it('rounds fractions down and accepts numeric strings', async () => {
    expect(await evaluate('to_date(1700000000.99).sec')).toBe(20);
    expect(await evaluate('to_date("1700000000").day')).toBe(14);
  });

  it('rejects what is not a time, naming the type and never the value', async () => {
    expect(await evaluate('to_date("soon")')).toBe(
      'throws TypeError: to_date: expected seconds since 1970-01-01 UTC, got a string',
    );
    expect(await evaluate('to_date(undefined)')).toBe(
      'throws TypeError: to_date: expected seconds since 1970-01-01 UTC, got undefined',
    );
    expect(await evaluate('to_date(1e20)')).toBe(
      'throws RangeError: to_date: the time is out of range',
    );
  });
});

describe('DateTime', () => {
  it('date gives YYYYMMDD in UTC', async () => {
    expect(await evaluate('DateTime.date(1700000000)')).toBe('20231114');
    expect(await evaluate('DateTime.date(0)')).toBe('19700101');
  });

  it('day gives the English weekday', async () => {
    expect(await evaluate('DateTime.day(1700000000)')).toBe('Tuesday');
    expect(await evaluate('DateTime.day(0)')).toBe('Thursday');
    expect(await evaluate('DateTime.day(1735516800)')).toBe('Monday');
  });

  it('week gives the ISO 8601 week number, across year boundaries', async () => {
    expect(await evaluate('DateTime.week(1700000000)')).toBe(46);
    expect(await evaluate('DateTime.week(0)')).toBe(1);
    expect(await evaluate('DateTime.week(1609459200)')).toBe(53); // 2021-01-01 is in week 53 of 2020
    expect(await evaluate('DateTime.week(1735516800)')).toBe(1); // 2024-12-30 is in week 1 of 2025
    expect(await evaluate('DateTime.week(1709208000)')).toBe(9);
  });

  it('hour_range gives the hour and the next, wrapping at midnight', async () => {
    expect(await evaluate('DateTime.hour_range(1700000000)')).toBe('22:00 - 23:00');
    expect(await evaluate('DateTime.hour_range(0)')).toBe('00:00 - 01:00');
    expect(await evaluate('DateTime.hour_range(1609545540)')).toBe('23:00 - 00:00');
  });
});

describe('Utils', () => {
  it('quantize rounds down to a multiple of the step', async () => {
    expect(await evaluate('Utils.quantize(17, 5)')).toBe(15);
    expect(await evaluate('Utils.quantize(20, 5)')).toBe(20);
    expect(await evaluate('Utils.quantize(-3, 5)')).toBe(-5);
    expect(await evaluate('Utils.quantize(2.75, 0.5)')).toBe(2.5);
    expect(await evaluate('Utils.quantize(5, 0)')).toBe(
      'throws RangeError: Utils.quantize: the step must be a positive finite number',
    );
    expect(await evaluate('Utils.quantize("7", 5)')).toBe(
      'throws TypeError: Utils.quantize: expected a finite number, got a string',
    );
  });

  it('length counts array items, string characters or own keys', async () => {
    expect(await evaluate('Utils.length([1, 2, 3])')).toBe(3);
    expect(await evaluate('Utils.length({ a: 1, b: 2 })')).toBe(2);
    expect(await evaluate('Utils.length({})')).toBe(0);
    expect(await evaluate('Utils.length("abc")')).toBe(3);
    expect(await evaluate('Utils.length(5)')).toBe(
      'throws TypeError: Utils.length: expected an object or array, got a number',
    );
  });

  it('sorted_keys sorts own keys ascending by default, or descending', async () => {
    expect(await evaluate('Utils.sorted_keys({ b: 1, a: 2, c: 3 })')).toEqual(['a', 'b', 'c']);
    expect(await evaluate('Utils.sorted_keys({ b: 1, a: 2, c: 3 }, "asc")')).toEqual([
      'a',
      'b',
      'c',
    ]);
    expect(await evaluate('Utils.sorted_keys({ b: 1, a: 2, c: 3 }, "desc")')).toEqual([
      'c',
      'b',
      'a',
    ]);
    expect(await evaluate('Utils.sorted_keys({ 10: 1, 9: 1, x: 1 })')).toEqual(['10', '9', 'x']);
    expect(await evaluate('Utils.sorted_keys({}, "up")')).toBe(
      "throws RangeError: Utils.sorted_keys: the order must be 'asc' or 'desc'",
    );
  });

  it('sorted_pairs gives [key, value] pairs sorted by key', async () => {
    expect(await evaluate('Utils.sorted_pairs({ b: 1, a: [2] })')).toEqual([
      ['a', [2]],
      ['b', 1],
    ]);
    expect(await evaluate('Utils.sorted_pairs({ b: 1, a: 2 }, "desc")')).toEqual([
      ['b', 1],
      ['a', 2],
    ]);
  });

  it('same_arrays compares lengths and items with ===', async () => {
    expect(await evaluate('Utils.same_arrays([1, "a"], [1, "a"])')).toBe(true);
    expect(await evaluate('Utils.same_arrays([], [])')).toBe(true);
    expect(await evaluate('Utils.same_arrays([1, 2], [2, 1])')).toBe(false);
    expect(await evaluate('Utils.same_arrays([1], [1, 1])')).toBe(false);
    expect(await evaluate('Utils.same_arrays([1], ["1"])')).toBe(false);
    expect(await evaluate('Utils.same_arrays([{}], [{}])')).toBe(false);
    expect(await evaluate('Utils.same_arrays("ab", "ab")')).toBe(false);
  });

  it('is shared but frozen: a task cannot change it', async () => {
    expect(
      await evaluate(
        'Object.isFrozen(Utils) && Object.isFrozen(DateTime) && Object.isFrozen(to_date)',
      ),
    ).toBe(true);
  });
});
