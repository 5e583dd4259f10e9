// @vitest-environment happy-dom
// The prefetch form: selecting tables, limits and filters builds the prefetch; JSON edits it too.
import { useState } from 'react';
import { afterEach, describe, expect, it } from 'vitest';
import type { Prefetch, Table } from '../api.ts';
import { button, byLabel, click, render, type, type Rendered, VISITS } from '../testing.tsx';
import { filtersOf, PrefetchForm } from './PrefetchForm.tsx';

const TABLES: Table[] = [
  VISITS,
  { name: 'users', version: 1, columns: [{ name: 'age', type: 'integer' }] },
];

/** The form with its value kept in state, and every change it reports recorded. */
function Harness({ initial, seen }: { initial: Prefetch[]; seen: Prefetch[][] }) {
  const [value, setValue] = useState(initial);
  return (
    <PrefetchForm
      tables={TABLES}
      value={value}
      onChange={(next) => {
        seen.push(next);
        setValue(next);
      }}
    />
  );
}

describe('prefetch form', () => {
  let view: Rendered | undefined;
  afterEach(() => view?.unmount());

  it('builds tables, row and time limits and filters from the form', async () => {
    const seen: Prefetch[][] = [];
    view = await render(<Harness initial={[]} seen={seen} />);
    const c = view.container;
    await click(byLabel(c, 'Table visits'));
    expect(seen.at(-1)).toEqual([{ table: 'visits' }]);
    await type(byLabel(c, 'Last rows per user'), '5');
    await type(byLabel(c, 'Rows from the last (seconds)'), '3600');
    await click(button(c, 'Add filter'));
    await type(c.querySelector<HTMLSelectElement>('select[aria-label="Column"]')!, 'ms');
    await type(c.querySelector<HTMLSelectElement>('select[aria-label="Comparison"]')!, '$gte');
    await type(c.querySelector<HTMLInputElement>('input[aria-label="Value"]')!, '100');
    await click(byLabel(c, 'Table users'));
    expect(seen.at(-1)).toEqual([
      { table: 'visits', user_rows: 5, time_limit: 3600, where: [{ $$ms: { $gte: 100 } }] },
      { table: 'users' },
    ]);
    await click(button(c, 'Remove filter 1'));
    expect(seen.at(-1)![0]).toEqual({ table: 'visits', user_rows: 5, time_limit: 3600 });
  });

  it('edits the same prefetch as JSON, and keeps filters the form cannot show in JSON', async () => {
    const seen: Prefetch[][] = [];
    view = await render(<Harness initial={[{ table: 'users' }]} seen={seen} />);
    const c = view.container;
    await click(button(c, 'Edit as JSON'));
    const json = byLabel<HTMLTextAreaElement>(c, 'Prefetch JSON');
    expect(JSON.parse(json.value)).toEqual([{ table: 'users' }]);
    const withOr = [
      { table: 'users', where: [{ $or: [{ $$age: { $lt: 18 } }, { $$age: { $gt: 65 } }] }] },
    ];
    await type(json, JSON.stringify(withOr));
    expect(seen.at(-1)).toEqual(withOr);
    await click(button(c, 'Edit with the form'));
    expect(c.querySelector('[role="alert"]')!.textContent).toMatch(/only be edited as JSON/);
    await type(json, 'not json');
    expect(c.querySelector('[role="alert"]')!.textContent).toMatch(/Not valid JSON/);
    expect(seen.at(-1)).toEqual(withOr);
  });

  it('reads simple filters back into form rows, and refuses $or / $not', () => {
    expect(filtersOf([{ $$age: { $gt: 1, $lt: 9 } }])).toEqual([
      { column: 'age', op: '$gt', value: '1' },
      { column: 'age', op: '$lt', value: '9' },
    ]);
    expect(filtersOf([{ $not: { $$age: { $eq: 1 } } }])).toBeNull();
  });
});
