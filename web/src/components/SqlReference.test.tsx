// @vitest-environment happy-dom
// The task page's SQL reference: its examples and the subset, folded (test/docs/sql-examples.test.ts runs the examples).
import { afterEach, describe, expect, it } from 'vitest';
import { render, type Rendered } from '../testing.tsx';
import { SQL_EXAMPLES } from '../sql-examples.ts';
import { SqlReference } from './SqlReference.tsx';

describe('the SQL reference on the task page', () => {
  let view: Rendered | undefined;
  afterEach(() => view?.unmount());

  it('shows the examples and the constructs, folded under one summary', async () => {
    view = await render(<SqlReference />);
    const details = view.container.querySelector('details.help')!;
    expect(details.querySelector('summary')!.textContent).toBe('What a SQL task may contain');
    const text = details.textContent!;
    for (const query of SQL_EXAMPLES) expect(text).toContain(query);
    for (const construct of ['CASE WHEN', 'LIKE', 'IS [NOT] NULL', 'lookup(', 'count(*)']) {
      expect(text).toContain(construct);
    }
  });
});
