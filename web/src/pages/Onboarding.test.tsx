// @vitest-environment happy-dom
// "Getting started" resumes where the organisation is: it does not start again at step 1 for an
// organisation that already has a table, a key or results.
import { afterEach, describe, expect, it } from 'vitest';
import type { Table } from '../api.ts';
import { render, type Rendered } from '../testing.tsx';
import { firstOpenStep, Onboarding, type Progress } from './Onboarding.tsx';

const purchases: Table = {
  name: 'purchases',
  columns: [{ name: 'amount', type: 'double' }],
  version: 1,
};

async function guide(progress: Progress): Promise<Rendered> {
  return render(
    <Onboarding keyTypes={['web_api']} onDone={() => undefined} load={async () => progress} />,
  );
}

const current = (view: Rendered) =>
  view.container.querySelector('li[aria-current="step"]')?.textContent;
const done = (view: Rendered) =>
  [...view.container.querySelectorAll('li.done')].map((li) => li.textContent);

describe('Getting started', () => {
  let view: Rendered | undefined;
  afterEach(() => view?.unmount());

  it('starts at "Define a table" for an organisation with nothing yet', async () => {
    view = await guide({ table: null, hasKey: false, tasksWithResults: 0 });
    expect(current(view)).toBe('Define a table');
    expect(done(view)).toEqual([]);
  });

  it('resumes at "Create a key" when a table is defined', async () => {
    view = await guide({ table: purchases, hasKey: false, tasksWithResults: 0 });
    expect(current(view)).toBe('Create a key');
    expect(done(view)).toEqual(['Define a table']);
  });

  it('says every step is done for an organisation with a table, a key and results', async () => {
    view = await guide({ table: purchases, hasKey: true, tasksWithResults: 2 });
    expect(current(view)).toBeUndefined();
    expect(done(view)).toEqual([
      'Define a table',
      'Create a key',
      'Write a task',
      'See its result',
    ]);
    expect(view.container.textContent).toContain('All four steps are done');
    expect(view.container.textContent).toContain('2 tasks with results');
    expect(view.container.textContent).not.toContain('1. Define a table');
  });

  it('puts an organisation with a table and a key but no result at "Write a task"', () => {
    expect(firstOpenStep({ table: purchases, hasKey: true, tasksWithResults: 0 })).toBe(2);
  });
});
