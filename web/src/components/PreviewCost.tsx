// "Preview cost" on the task page: what a run would do to the participation budget, before it runs.
import { useState } from 'react';
import { api, type BudgetPreview } from '../api.ts';
import { useAction } from '../hooks.ts';
import { BudgetNoticeView } from './BudgetNotice.tsx';
import { ErrorMessage } from './Notice.tsx';

/**
 * The preview runs the saved task as a run would and spends nobody's budget, but its figures are
 * fresh noisy counts: it takes one of the period's notices, so the button says what it costs.
 */
export function PreviewCost({ token, disabled }: { token: string; disabled: boolean }) {
  const [preview, setPreview] = useState<BudgetPreview | null>(null);
  const action = useAction();
  const onPreview = async () => {
    setPreview(null);
    const answer = await action.run(() =>
      api<{ preview: BudgetPreview }>(`/api/site/tasks/${token}/preview`, { method: 'POST' }),
    );
    if (answer) setPreview(answer.preview);
  };
  return (
    <div className="preview-cost">
      <button
        type="button"
        onClick={() => void onPreview()}
        disabled={disabled || action.busy}
        title="Runs the task as a run would, spends nobody's budget and publishes nothing; it uses one of this period's budget notices, so later figures are a little noisier."
      >
        {action.busy ? 'Previewing…' : 'Preview cost'}
      </button>
      <ErrorMessage message={action.error} />
      {preview &&
        (preview.budgeted ? (
          <BudgetNoticeView notice={preview} />
        ) : (
          <p className="muted" aria-label="Participation budget">
            {preview.message}
          </p>
        ))}
    </div>
  );
}
