import { describe, expect, it } from 'vitest';
import { groupsByUser } from './sql-groups.ts';

/** The sandbox's defaults, and small ones to see them broken. */
const LIMITS = { maxProperties: 10_000, maxTextLength: 1000 };
const SMALL = { maxProperties: 3, maxTextLength: 12 };

describe("a sql task's groups per user", () => {
  it('joins a user’s distinct group values in the order first seen, as a task would report them', () => {
    const rows = [
      ['u1', 'Berlin', 30, 1],
      ['u1', 'Berlin', 30, 1],
      ['u1', null, 30.5, 0],
      ['u2', 'Oslo', -0, null],
    ];
    const users = [
      ...groupsByUser(
        rows,
        { label: 'city, age, member', formats: ['plain', 'plain', 'boolean'] },
        LIMITS,
      ),
    ];
    expect(users).toEqual([
      {
        userId: 'u1',
        ok: true,
        properties: [
          ['city, age, member', 'Berlin, 30, true'],
          ['city, age, member', 'null, 30.5, false'],
        ],
      },
      { userId: 'u2', ok: true, properties: [['city, age, member', 'Oslo, 0, null']] },
    ]);
  });

  it('gives a query without groups one bucket with an empty value per user', () => {
    const users = [
      ...groupsByUser([['u1'], ['u2']], { label: 'big_spenders', formats: [] }, LIMITS),
    ];
    expect(users.map((u) => u.ok && u.properties)).toEqual([
      [['big_spenders', '']],
      [['big_spenders', '']],
    ]);
  });

  it("breaks report_property's limits with its own messages, failing only that user", () => {
    const rows = [
      ['long', 'a value longer than twelve'],
      ['many', 'a'],
      ['many', 'b'],
      ['many', 'c'],
      ['many', 'd'],
      ['fine', 'x'],
    ];
    const users = [...groupsByUser(rows, { label: 'v', formats: ['plain'] }, SMALL)];
    expect(users).toEqual([
      {
        userId: 'long',
        ok: false,
        error: 'RangeError: report_property: the value is longer than 12 characters',
      },
      {
        userId: 'many',
        ok: false,
        error: 'RangeError: report_property: more than 3 distinct properties for one user',
      },
      { userId: 'fine', ok: true, properties: [['v', 'x']] },
    ]);
  });
});
