// Result charts in plain SVG: a bar per bucket, and a line per bucket across results over time.
import type { Bucket, Result } from '../api.ts';

const BAR_HEIGHT = 22;
const LABEL_WIDTH = 180;
const CHART_WIDTH = 520;

export function BarChart({ buckets, title }: { buckets: readonly Bucket[]; title: string }) {
  if (buckets.length === 0) {
    return <p className="empty">No buckets were published: too few users reported anything.</p>;
  }
  const max = Math.max(...buckets.map((b) => b.count), 1);
  const height = buckets.length * (BAR_HEIGHT + 6);
  return (
    <svg
      className="bar-chart"
      role="img"
      aria-label={title}
      viewBox={`0 0 ${CHART_WIDTH} ${height}`}
      width="100%"
      preserveAspectRatio="xMinYMin meet"
    >
      <title>{title}</title>
      {buckets.map((bucket, i) => {
        const y = i * (BAR_HEIGHT + 6);
        const width = Math.max(1, ((CHART_WIDTH - LABEL_WIDTH - 60) * bucket.count) / max);
        return (
          <g key={bucket.name} data-testid="bar">
            <text
              x={LABEL_WIDTH - 8}
              y={y + BAR_HEIGHT / 2 + 5}
              textAnchor="end"
              className="bar-label"
            >
              {bucket.name.length > 28 ? `${bucket.name.slice(0, 27)}…` : bucket.name}
            </text>
            <rect x={LABEL_WIDTH} y={y} width={width} height={BAR_HEIGHT} rx={3} className="bar" />
            <text x={LABEL_WIDTH + width + 6} y={y + BAR_HEIGHT / 2 + 5} className="bar-value">
              {bucket.count}
            </text>
          </g>
        );
      })}
    </svg>
  );
}

/** One series per bucket name, oldest result first; a bucket missing from a result is a gap. */
export function seriesOf(
  results: readonly Result[],
): Array<{ name: string; points: Array<[number, number | null]> }> {
  const ordered = [...results].sort((a, b) => a.published_at - b.published_at);
  const names = [...new Set(ordered.flatMap((r) => r.buckets.map((b) => b.name)))].sort();
  return names.map((name) => ({
    name,
    points: ordered.map((r) => [
      r.published_at,
      r.buckets.find((b) => b.name === name)?.count ?? null,
    ]),
  }));
}

export function TimeSeries({ results }: { results: readonly Result[] }) {
  const series = seriesOf(results);
  if (results.length < 2 || series.length === 0) {
    return <p className="empty">A time series needs at least two results.</p>;
  }
  const width = 240;
  const height = 60;
  return (
    <ul className="time-series">
      {series.map(({ name, points }) => {
        const values = points.map(([, v]) => v).filter((v): v is number => v !== null);
        // Scaled from the series' lowest to its highest count, so that changes are visible.
        const low = Math.min(...values);
        const span = Math.max(...values) - low || 1;
        const x = (i: number) => (i * width) / (points.length - 1);
        const path = points
          .map(([, v], i) =>
            v === null
              ? null
              : `${x(i).toFixed(1)},${(height - ((v - low) * height) / span).toFixed(1)}`,
          )
          .filter((p) => p !== null)
          .join(' ');
        return (
          <li key={name}>
            <span className="series-name">{name}</span>
            <svg
              role="img"
              aria-label={`${name} over ${points.length} results, last ${values.at(-1) ?? 'suppressed'}`}
              viewBox={`-2 -2 ${width + 4} ${height + 4}`}
              width={width}
              height={height}
            >
              <polyline points={path} className="series-line" data-testid="series-line" />
            </svg>
            <span className="series-last">{points.at(-1)?.[1] ?? '—'}</span>
          </li>
        );
      })}
    </ul>
  );
}
