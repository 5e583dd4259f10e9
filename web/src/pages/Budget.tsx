// Budget: the organisation's participation budget, and the noisy notices it has published so far.
import { api, formatTime, type AccessLevel, type BudgetView } from '../api.ts';
import { ErrorMessage, Empty } from '../components/Notice.tsx';
import { TableHead } from '../components/TableHead.tsx';
import { useLoad } from '../hooks.ts';

/** Enough notices to see a period's trend; the API gives up to 100. */
const SHOWN = 50;

/**
 * Everything here was already published (settings, how many runs were made, and the notices runs
 * and previews gave), so looking costs nothing; there is no fresh count of users on this page.
 */
export function Budget({ level }: { level: AccessLevel }) {
  const state = useLoad(() => api<{ budget: BudgetView }>(`/api/site/budget?limit=${SHOWN}`));
  const budget = state.data?.budget;
  return (
    <section aria-labelledby="budget-title">
      <h1 id="budget-title">Participation budget</h1>
      <p>
        Your organisation may learn only so much about each user. Every new bucket costs its users
        part of their budget; users who have spent it are left out of new buckets. Each run (and
        each cost preview) publishes a noisy count of the users it left out; those counts are listed
        below. They are noisy on purpose, so that they say nothing about any one user, and the noise
        grows with each notice of a period so that all of them together cost little.
      </p>
      {level === 'trusted' && (
        <p className="notice">
          You are trusted: runs you start of tasks saved by trusted people are not charged and leave
          nobody out.
        </p>
      )}
      <ErrorMessage message={state.error} />
      {budget && !budget.enabled && <p>{budget.message}</p>}
      {budget?.enabled && (
        <>
          <dl className="detail" aria-label="Budget settings">
            <div>
              <dt>Budget per user (zCDP)</dt>
              <dd>{budget.rho}</dd>
            </div>
            <div>
              <dt>Cost of all of a period&rsquo;s notices together</dt>
              <dd>{budget.disclosure_rho.toFixed(4)}</dd>
            </div>
            <div>
              <dt>Renews</dt>
              <dd>
                {budget.renews_at === null
                  ? 'never'
                  : `${formatTime(budget.renews_at)} (every ${budget.period_days} days)`}
              </dd>
            </div>
            <div>
              <dt>Notices this period</dt>
              <dd>{budget.runs_this_period}</dd>
            </div>
            <div>
              <dt>Noise of the next notice (sd)</dt>
              <dd>{budget.next_noise_sd}</dd>
            </div>
          </dl>
          <h2>Latest notices</h2>
          {budget.disclosures.length === 0 ? (
            <Empty>No budgeted run yet.</Empty>
          ) : (
            <div className="scroll">
              <table aria-label="Budget notices">
                <TableHead
                  columns={[
                    'When',
                    'Kind',
                    'Users left out',
                    'Users who have spent the budget',
                    'Noise (sd)',
                    'Counts may be low',
                  ]}
                />
                <tbody>
                  {budget.disclosures.map((d) => (
                    <tr key={`${d.period}-${d.period_run}-${d.at}`}>
                      <td>{formatTime(d.at)}</td>
                      <td>{d.kind === 'preview' ? 'cost preview' : 'run'}</td>
                      <td className="number">{d.users_left_out}</td>
                      <td className="number">{d.users_exhausted}</td>
                      <td className="number">{d.noise_sd}</td>
                      <td>{d.may_be_low ? 'yes' : 'no'}</td>
                    </tr>
                  ))}
                </tbody>
              </table>
            </div>
          )}
        </>
      )}
    </section>
  );
}
