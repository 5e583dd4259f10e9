// A destructive action behind a confirmation: the first button asks, the second one acts.
import { useState } from 'react';
import { useAction } from '../hooks.ts';
import { ErrorMessage } from './Notice.tsx';

export interface ConfirmButtonProps {
  /** The first button's text, e.g. "Revoke…", and its accessible name. */
  ask: string;
  askLabel?: string;
  /** The confirmation's question, also the dialog's accessible name. */
  question: string;
  /** What the confirmation says will happen. */
  warning?: string;
  /** The confirming button's text. */
  confirm: string;
  action(): Promise<unknown>;
  onDone(): void;
}

export function ConfirmButton({
  ask,
  askLabel,
  question,
  warning,
  confirm,
  action,
  onDone,
}: ConfirmButtonProps) {
  const [confirming, setConfirming] = useState(false);
  const running = useAction();
  if (!confirming) {
    return (
      <button
        type="button"
        className="danger"
        aria-label={askLabel}
        onClick={() => setConfirming(true)}
      >
        {ask}
      </button>
    );
  }
  const go = async () => {
    let done = false;
    await running.run(async () => {
      await action();
      done = true;
    });
    if (done) {
      setConfirming(false);
      onDone();
    }
  };
  return (
    <span role="alertdialog" aria-label={question} className="confirm">
      {warning ?? question}{' '}
      <button type="button" className="danger" disabled={running.busy} onClick={() => void go()}>
        {confirm}
      </button>{' '}
      <button type="button" autoFocus onClick={() => setConfirming(false)}>
        Cancel
      </button>
      <ErrorMessage message={running.error} />
    </span>
  );
}
