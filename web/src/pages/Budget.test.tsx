// @vitest-environment happy-dom
// The Budget page and the task page's "Preview cost": what the site API sends, shown as it is.
import { act } from 'react';
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import type { BudgetNotice, BudgetView } from '../api.ts';
import { PreviewCost } from '../components/PreviewCost.tsx';
import { button, click, render, type Rendered } from '../testing.tsx';
import { Budget } from './Budget.tsx';

const NOTICE: BudgetNotice = {
  users_left_out: 140,
  users_exhausted: 410,
  noise_sd: 37,
  may_be_low: true,
  period_run: 2,
  renews_at: null,
  message: 'This task would leave out about 140 users who have spent this organisation’s budget',
};

/** Answers every request with `body` (status 200 unless told), and records what was asked. */
function answer(body: unknown, status = 200) {
  const asked: Array<{ url: string; method: string }> = [];
  vi.stubGlobal('fetch', async (url: string, init: { method: string }) => {
    asked.push({ url, method: init.method });
    return new Response(JSON.stringify(body), { status });
  });
  return asked;
}

/** Lets the page's fetch and the state updates after it settle. */
const settle = () => act(async () => new Promise((r) => setTimeout(r, 0)));

describe('the Budget page', () => {
  let view: Rendered | undefined;
  beforeEach(() => vi.unstubAllGlobals());
  afterEach(() => view?.unmount());

  it('lists the settings and every notice, runs and previews, as the API sent them', async () => {
    const budget: BudgetView = {
      enabled: true,
      rho: 0.1,
      disclosure_rho: 0.0054,
      period_days: 0,
      renews_at: null,
      runs_this_period: 2,
      next_noise_sd: 50,
      disclosures: [
        { ...NOTICE, kind: 'preview', at: 2_000, period: 0 },
        { ...NOTICE, users_left_out: 0, may_be_low: false, kind: 'run', at: 1_000, period: 0 },
      ],
    };
    const asked = answer({ success: true, budget });
    view = await render(<Budget level="untrusted" />);
    await settle();
    expect(asked).toEqual([{ url: '/api/site/budget?limit=50', method: 'GET' }]);
    const settings = view.container.querySelector('[aria-label="Budget settings"]')!;
    expect(settings.textContent).toContain('Renewsnever');
    expect(settings.textContent).toContain('Noise of the next notice (sd)50');
    const rows = [
      ...view.container.querySelectorAll('table[aria-label="Budget notices"] tbody tr'),
    ];
    expect(
      rows.map((r) => [...r.querySelectorAll('td')].slice(1).map((c) => c.textContent)),
    ).toEqual([
      ['cost preview', '140', '410', '37', 'yes'],
      ['run', '0', '410', '37', 'no'],
    ]);
    expect(view.container.textContent).not.toContain('You are trusted');
  });

  it('says why there is nothing to show when the budget is off', async () => {
    answer({
      success: true,
      budget: { enabled: false, message: 'The participation budget is off.' },
    });
    view = await render(<Budget level="trusted" />);
    await settle();
    expect(view.container.textContent).toContain('The participation budget is off.');
    expect(view.container.textContent).toContain('You are trusted');
    expect(view.container.querySelector('table')).toBeNull();
  });
});

describe('Preview cost', () => {
  let view: Rendered | undefined;
  beforeEach(() => vi.unstubAllGlobals());
  afterEach(() => view?.unmount());

  it('posts the preview and warns when the run would leave many users out', async () => {
    const asked = answer({ success: true, preview: { budgeted: true, ...NOTICE } });
    view = await render(<PreviewCost token="t1" disabled={false} />);
    await click(button(view.container, 'Preview cost'));
    await settle();
    expect(asked).toEqual([{ url: '/api/site/tasks/t1/preview', method: 'POST' }]);
    const warning = view.container.querySelector('.budget-warning');
    expect(warning?.textContent).toBe(`Counts may be low. ${NOTICE.message}`);
  });

  it('shows why a trusted run has no cost, and the API’s error when the preview fails', async () => {
    answer({ success: true, preview: { budgeted: false, message: 'Your runs are trusted.' } });
    view = await render(<PreviewCost token="t1" disabled={false} />);
    await click(button(view.container, 'Preview cost'));
    await settle();
    expect(view.container.querySelector('.budget-warning')).toBeNull();
    expect(view.container.textContent).toContain('Your runs are trusted.');

    answer({ success: false, error: 'Task "s" is a streaming task.' }, 400);
    await click(button(view.container, 'Preview cost'));
    await settle();
    expect(view.container.querySelector('[role="alert"]')?.textContent).toBe(
      'Task "s" is a streaming task.',
    );
  });

  it('cannot be pressed while the task has unsaved changes', async () => {
    view = await render(<PreviewCost token="t1" disabled={true} />);
    expect(button(view.container, 'Preview cost').disabled).toBe(true);
  });
});
