// A run's progress as a share of its time to the answer, and the error of a failed run.
import type { Run } from '../api.ts';

/**
 * A share, not "n of m users": progress follows the run's release schedule rather than its work
 * (an exact count would tell how many users a filter kept), see docs/anonymization.md, "Timing".
 */
export function RunProgress({ run }: { run: Run }) {
  const total = Math.max(run.users_total, run.users_done, 1);
  const percent = Math.floor((100 * run.users_done) / total);
  return (
    <div className="run">
      <label>
        Run {run.state === 'running' ? 'in progress' : run.state}: {percent}%
        <progress max={total} value={run.users_done} />
      </label>
      {run.error && (
        <p role="alert" className="error">
          {run.error}
        </p>
      )}
    </div>
  );
}
