// @vitest-environment happy-dom
// A result shows its participation-budget notice: a warning when counts may be low, a quiet line otherwise.
import { afterEach, describe, expect, it } from 'vitest';
import type { BudgetNotice, Result } from '../api.ts';
import { render, type Rendered } from '../testing.tsx';
import { resultNumber, ResultView } from './Results.tsx';

const notice = (mayBeLow: boolean, message: string): BudgetNotice => ({
  users_left_out: mayBeLow ? 120 : 0,
  users_exhausted: mayBeLow ? 300 : 0,
  noise_sd: 22,
  may_be_low: mayBeLow,
  period_run: 2,
  renews_at: null,
  message,
});

const result = (budget?: BudgetNotice): Result => ({
  id: 7,
  published_at: 1_795_000_000_000,
  code_version: 1,
  buckets: [{ label: 'city', value: 'Oslo', count: 40, name: 'city: Oslo' }],
  exceptions: [],
  ...(budget ? { budget } : {}),
});

describe('a result’s budget notice', () => {
  let view: Rendered | undefined;
  afterEach(() => view?.unmount());

  it('warns, with the notice’s message, when counts may be low', async () => {
    const message = 'About 120 users were left out of this task’s buckets because they have spent';
    view = await render(<ResultView result={result(notice(true, message))} title="Latest" />);
    const warning = view.container.querySelector('[aria-label="Participation budget warning"]');
    expect(warning?.getAttribute('role')).toBe('note');
    expect(warning?.className).toBe('budget-warning');
    expect(warning?.textContent).toBe(`Counts may be low. ${message}`);
  });

  it('says quietly how many may have been left out unseen', async () => {
    const message =
      "Too few users left out by the participation budget to show above this figure's noise: up to about 44 may have been";
    view = await render(<ResultView result={result(notice(false, message))} title="Latest" />);
    expect(view.container.querySelector('.budget-warning')).toBeNull();
    const quiet = view.container.querySelector('[aria-label="Participation budget"]');
    expect(quiet?.className).toBe('muted');
    expect(quiet?.textContent).toBe(message);
  });

  it('shows nothing about the budget for a run that was not charged to it', async () => {
    view = await render(<ResultView result={result()} title="Latest" />);
    expect(view.container.querySelector('[aria-label^="Participation budget"]')).toBeNull();
    expect(view.container.textContent).toContain('city: Oslo');
  });
});

describe('a result on the site', () => {
  let view: Rendered | undefined;
  afterEach(() => view?.unmount());

  it('explains *: * where it shows it', async () => {
    const withStar: Result = {
      ...result(),
      buckets: [
        { label: 'city', value: 'Oslo', count: 40, name: 'city: Oslo' },
        { label: '*', value: '*', count: 20, name: '*: *' },
      ],
    };
    view = await render(<ResultView result={withStar} title="Latest" />);
    const note = view.container.querySelector('[aria-label="What *: * means"]');
    expect(note?.textContent).toContain('counts the users of the buckets too small to publish');
  });

  it('says nothing of *: * when it is not shown', async () => {
    view = await render(<ResultView result={result()} title="Latest" />);
    expect(view.container.querySelector('[aria-label="What *: * means"]')).toBeNull();
  });

  it('numbers results within their task, 1 for the oldest, whatever their ids', () => {
    // 7 results, 5 a page, newest first: page 1 shows 7..3, page 2 shows 2 and 1.
    expect([0, 1, 2, 3, 4].map((i) => resultNumber(7, 0, i))).toEqual([7, 6, 5, 4, 3]);
    expect([0, 1].map((i) => resultNumber(7, 5, i))).toEqual([2, 1]);
  });
});
