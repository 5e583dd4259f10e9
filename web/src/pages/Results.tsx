// Results: the latest result (kept live), all results paged, as tables and charts, CSV, delete.
import { useEffect, useState } from 'react';
import { api, formatTime, type Result, type Run, type Task } from '../api.ts';
import { BudgetNoticeView } from '../components/BudgetNotice.tsx';
import { BarChart, TimeSeries } from '../components/Charts.tsx';
import { ConfirmButton } from '../components/ConfirmButton.tsx';
import { RunProgress } from '../components/RunProgress.tsx';
import { Empty, ErrorMessage } from '../components/Notice.tsx';
import { useLoad } from '../hooks.ts';
import { TableHead } from '../components/TableHead.tsx';

const PER_PAGE = 5;
const LIVE_MS = 3000;

/** The suppression bucket's display name (label `*`, value `*`). */
const SUPPRESSED = '*: *';

/** Said wherever `*: *` is shown, since nothing else on the page explains it. */
function SuppressedNote() {
  return (
    <p className="muted" role="note" aria-label="What *: * means">
      <code>{SUPPRESSED}</code> counts the users of the buckets too small to publish, together (it
      is itself anonymized and suppressed when small): it shows how many users the published buckets
      leave out.
    </p>
  );
}

/**
 * A result's number within its task, 1 for the oldest: results come newest first, `offset` of
 * them before this page. (Result ids count across every task, which means nothing to a reader.)
 */
export const resultNumber = (count: number, offset: number, index: number) =>
  count - offset - index;

export function ResultView({
  result,
  title,
  onDelete,
}: {
  result: Result;
  title: string;
  onDelete?(): Promise<unknown>;
}) {
  return (
    <article className="card result" aria-label={title}>
      <h3>{title}</h3>
      <p className="muted">
        Published {formatTime(result.published_at)} · code version {result.code_version}
      </p>
      {result.budget && <BudgetNoticeView notice={result.budget} />}
      <div className="result-body">
        <BarChart buckets={result.buckets} title={`${title}: distinct users per bucket`} />
        {result.buckets.length > 0 && (
          <table>
            <TableHead columns={['Bucket', 'Users (anonymized)']} />
            <tbody>
              {result.buckets.map((b) => (
                <tr key={b.name}>
                  <td>{b.name}</td>
                  <td className="number">{b.count}</td>
                </tr>
              ))}
            </tbody>
          </table>
        )}
      </div>
      {result.buckets.some((b) => b.name === SUPPRESSED) && <SuppressedNote />}
      {result.exceptions.length > 0 && (
        <>
          <h4>Exceptions</h4>
          <ul>
            {result.exceptions.map((e) => (
              <li key={e.error}>
                {e.error} <span className="muted">({e.count} users)</span>
              </li>
            ))}
          </ul>
        </>
      )}
      {onDelete && (
        <ConfirmButton
          ask="Delete…"
          askLabel={`Delete ${title}`}
          question={`Delete ${title}?`}
          confirm="Delete result"
          action={onDelete}
          onDone={() => undefined}
        />
      )}
    </article>
  );
}

interface Page {
  count: number;
  page: number;
  per_page: number;
  results: Result[];
}

export function Results({ token }: { token: string }) {
  const [page, setPage] = useState(1);
  const task = useLoad(() => api<{ task: Task }>(`/api/site/tasks/${token}`), [token]);
  const results = useLoad(
    () => api<Page>(`/api/site/tasks/${token}/results?page=${page}&per_page=${PER_PAGE}`),
    [token, page],
  );
  const latest = useLoad(() => api<Page>(`/api/site/tasks/${token}/results?per_page=50`), [token]);

  const runs = useLoad(() => api<{ runs: Run[] }>(`/api/site/tasks/${token}/runs`), [token]);
  // Live: new results (a run finishing, a periodic or streaming report) appear without a reload.
  useEffect(() => {
    const timer = window.setInterval(() => {
      latest.reload();
      results.reload();
      runs.reload();
    }, LIVE_MS);
    return () => window.clearInterval(timer);
  }, [latest.reload, results.reload, runs.reload]);

  const remove = async (id: number) => {
    await api(`/api/site/tasks/${token}/results/${id}`, { method: 'DELETE' });
    results.reload();
    latest.reload();
  };

  const t = task.data?.task;
  const newest = latest.data?.results[0];
  const pages = Math.max(1, Math.ceil((results.data?.count ?? 0) / PER_PAGE));
  return (
    <section aria-labelledby="results-title">
      <h1 id="results-title">Results{t ? ` of ${t.name}` : ''}</h1>
      <p>
        Counts are of distinct users, anonymized: small counts are suppressed and every count has a
        little noise.
      </p>
      <WhyMissing />
      <div className="actions">
        {t && <a href={`#/tasks/${t.token}`}>Edit task</a>}
        <a className="button" href={`/api/site/tasks/${token}/results.csv`} download>
          Download CSV
        </a>
      </div>
      <ErrorMessage message={task.error || results.error} />
      {results.data && results.data.count === 0 && (
        <Empty>No results yet. Run the task (batch), or wait for its schedule.</Empty>
      )}
      {runs.data?.runs
        .filter((r) => r.state === 'running')
        .map((r) => (
          <RunProgress key={r.id} run={r} />
        ))}
      {newest && <ResultView result={newest} title="Latest result" />}
      {t && t.type !== 'batch' && latest.data && (
        <>
          <h2>Over time</h2>
          <TimeSeries results={latest.data.results} />
        </>
      )}
      {results.data && results.data.count > 0 && (
        <>
          <h2>All results</h2>
          {results.data.results.map((r, i) => (
            <ResultView
              key={r.id}
              result={r}
              title={`Result ${resultNumber(results.data!.count, (page - 1) * PER_PAGE, i)}`}
              onDelete={() => remove(r.id)}
            />
          ))}
          <nav aria-label="Result pages" className="pager">
            <button type="button" disabled={page <= 1} onClick={() => setPage(page - 1)}>
              Newer
            </button>
            <span>
              Page {page} of {pages}
            </span>
            <button type="button" disabled={page >= pages} onClick={() => setPage(page + 1)}>
              Older
            </button>
          </nav>
        </>
      )}
    </section>
  );
}

/** The short form of docs/tasks.md, "Why is a bucket missing or noisy?". */
function WhyMissing() {
  return (
    <details className="help">
      <summary>Why is a bucket missing or noisy?</summary>
      <ul>
        <li>
          Buckets of 1 or 2 users are never published, and others only when their noisy count
          reaches about 43 (a bucket of 65 users or more almost always shows). Their users are
          counted in the <code>*</code> bucket.
        </li>
        <li>
          Every count has sticky noise (about 10 users for small counts, 10% at 200 users, 4% at
          1,000 and 3% from a few thousand on) and is rounded, so read small counts as rough.
          Rerunning a task gives the same answer, for free; changing its code or a label draws new
          noise and is charged again.
        </li>
        <li>
          The participation budget limits what your organisation learns about each user: after a
          user has been in about four new small buckets, new buckets leave them out, so their counts
          are lower than the truth. Each result says so beside its counts, with a noisy figure of
          how many users were left out (the Budget page shows the history). Large buckets and reruns
          cost little or nothing; &ldquo;Preview cost&rdquo; on the task page tells you before a
          run.
        </li>
        <li>
          To get answers that survive: ask for ranges (<code>Utils.quantize</code>), give each user
          few buckets per task, start with large groups, and rerun rather than reword.
        </li>
      </ul>
      <p>
        The full explanation is in the OpenCloak documentation, docs/tasks.md, &ldquo;Why is a
        bucket missing or noisy?&rdquo;.
      </p>
    </details>
  );
}
