// @vitest-environment happy-dom
// The result charts: a bar per bucket scaled to the largest count, an empty state, series over time.
import { afterEach, describe, expect, it } from 'vitest';
import type { Result } from '../api.ts';
import { render, type Rendered } from '../testing.tsx';
import { BarChart, seriesOf, TimeSeries } from './Charts.tsx';

const bucket = (value: string, count: number) => ({
  label: 'city',
  value,
  count,
  name: `city: ${value}`,
});
const result = (id: number, at: number, buckets: ReturnType<typeof bucket>[]): Result => ({
  id,
  published_at: at,
  code_version: 1,
  buckets,
  exceptions: [],
});

describe('charts', () => {
  let view: Rendered | undefined;
  afterEach(() => view?.unmount());

  it('draws one labelled bar per bucket, the longest for the largest count', async () => {
    view = await render(
      <BarChart title="Cities" buckets={[bucket('Oslo', 40), bucket('Rome', 10)]} />,
    );
    const svg = view.container.querySelector('svg')!;
    expect(svg.getAttribute('role')).toBe('img');
    expect(svg.getAttribute('aria-label')).toBe('Cities');
    const bars = [...svg.querySelectorAll('[data-testid="bar"]')];
    expect(bars.map((b) => b.textContent)).toEqual(['city: Oslo40', 'city: Rome10']);
    const widths = bars.map((b) => Number(b.querySelector('rect')!.getAttribute('width')));
    expect(widths[0]).toBeCloseTo(widths[1]! * 4, 5);
  });

  it('says why there is nothing to draw when every bucket was suppressed', async () => {
    view = await render(<BarChart title="Empty" buckets={[]} />);
    expect(view.container.querySelector('svg')).toBeNull();
    expect(view.container.textContent).toMatch(/No buckets were published/);
  });

  it('builds a series per bucket across results, oldest first, with gaps for missing buckets', async () => {
    const results = [
      result(2, 2000, [bucket('Oslo', 12)]),
      result(1, 1000, [bucket('Oslo', 10), bucket('Rome', 5)]),
    ];
    expect(seriesOf(results)).toEqual([
      {
        name: 'city: Oslo',
        points: [
          [1000, 10],
          [2000, 12],
        ],
      },
      {
        name: 'city: Rome',
        points: [
          [1000, 5],
          [2000, null],
        ],
      },
    ]);
    view = await render(<TimeSeries results={results} />);
    expect(view.container.querySelectorAll('[data-testid="series-line"]')).toHaveLength(2);
    expect(view.container.querySelector('svg')!.getAttribute('aria-label')).toBe(
      'city: Oslo over 2 results, last 12',
    );
  });
});
