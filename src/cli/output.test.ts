// The CLI's text output: objects as "name: value" lines, lists of objects as aligned tables.
import { describe, expect, it } from 'vitest';
import { formatText } from './output.ts';

describe('formatText', () => {
  it('prints an object as aligned lines and leaves out success: true', () => {
    expect(formatText({ success: true, rows: 250, users: 40, source: null })).toBe(
      'rows:   250\nusers:  40\nsource: -\n',
    );
  });

  it('prints a list of objects as a table with a header', () => {
    expect(
      formatText([
        { label: 'city', value: 'Paris', count: 120 },
        { label: 'city', value: 'Lyon', count: 35 },
      ]),
    ).toBe('label  value  count\ncity   Paris  120\ncity   Lyon   35\n');
  });

  it('indents nested objects and tables under their name', () => {
    expect(formatText({ id: 3, budget: { left_out: 0 }, buckets: [{ a: 1 }] })).toBe(
      'id:      3\nbudget:\n  left_out: 0\nbuckets:\n  a\n  1\n',
    );
  });

  it('shows times kept as milliseconds as dates', () => {
    expect(formatText({ createdAt: 0 })).toBe('createdAt: 1970-01-01T00:00:00.000Z\n');
  });

  it('says (none) for an empty list and joins lists of plain values', () => {
    expect(formatText([])).toBe('(none)\n');
    expect(formatText({ columns: ['a', 'b'] })).toBe('columns: a, b\n');
  });
});
