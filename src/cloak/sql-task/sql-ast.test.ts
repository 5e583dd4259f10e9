// How a refusal names a construct of the query: by its text where it has one, else by its kind.
import { describe, expect, it } from 'vitest';
import { describeNode } from './sql-ast.ts';

describe('describeNode', () => {
  it('names a construct without text by its kind, with "a" or "an" as its sound asks', () => {
    expect(describeNode({ type: 'interval' }, undefined)).toBe('an interval');
    expect(describeNode({ type: 'aggr_func' }, undefined)).toBe('an aggr func');
    expect(describeNode({ type: 'case' }, undefined)).toBe('a case');
    expect(describeNode({ type: 'case' }, 'CASE WHEN x THEN 1 END')).toBe(
      'case "CASE WHEN x THEN 1 END"',
    );
  });
});
