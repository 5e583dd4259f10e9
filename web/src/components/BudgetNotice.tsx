// A run's notice about the participation budget, beside its result: a warning when counts may be low.
import type { BudgetNotice } from '../api.ts';

/**
 * The notice's own message, which already says how noisy its figure is. When counts may be low it
 * is a warning the analyst cannot miss (the result's counts are wrong by up to that many); when
 * there is no sign of anyone left out it stays a quiet line, so results do not cry wolf.
 */
export function BudgetNoticeView({ notice }: { notice: BudgetNotice }) {
  if (notice.may_be_low) {
    return (
      <p className="budget-warning" role="note" aria-label="Participation budget warning">
        <strong>Counts may be low.</strong> {notice.message}
      </p>
    );
  }
  return (
    <p className="muted" aria-label="Participation budget">
      {notice.message}
    </p>
  );
}
