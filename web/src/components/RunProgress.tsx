// A run's progress: users done of the users with rows, and the error of a failed run.
import type { Run } from '../api.ts';

export function RunProgress({ run }: { run: Run }) {
  const total = Math.max(run.users_total, run.users_done, 1);
  return (
    <div className="run">
      <label>
        Run {run.state === 'running' ? 'in progress' : run.state}: {run.users_done} of{' '}
        {run.users_total} users
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
