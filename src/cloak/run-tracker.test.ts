// The run tracker: run ids, events, and the shutdown's drain, cancel and refusal.
import { describe, expect, it } from 'vitest';
import { AppError } from '../errors/index.ts';
import type { RunControl, RunOutcome } from '../shared/index.ts';
import { RunTracker } from './run-tracker.ts';

/** A run that ends when told to, or fails TASK_RUN_CANCELLED as soon as its signal aborts. */
function controllable() {
  let finish: () => void = () => undefined;
  const work = (control: RunControl) =>
    new Promise<string>((resolve, reject) => {
      finish = () => resolve('done');
      control.signal?.addEventListener('abort', () => reject(new AppError('TASK_RUN_CANCELLED')));
    });
  return { work, finish: () => finish() };
}

function watched() {
  const tracker = new RunTracker();
  const outcomes: RunOutcome[] = [];
  const ids: string[] = [];
  tracker.watch(
    {
      started: ({ runId }) => void ids.push(runId),
      finished: ({ outcome }) => void outcomes.push(outcome),
    },
    {
      info: () => undefined,
      warn: () => undefined,
      error: () => undefined,
      child() {
        return this;
      },
    },
  );
  return { tracker, outcomes, ids };
}

describe('RunTracker', () => {
  it("keeps the caller's run id, or makes a random one", async () => {
    const { tracker, ids } = watched();
    await tracker.track('run', 'org', { runId: 'air-run-1' }, async () => 'x');
    await tracker.track('run', 'org', {}, async () => 'x');
    expect(ids[0]).toBe('air-run-1');
    expect(ids[1]).toMatch(/^[0-9a-f-]{36}$/);
  });

  it('lets runs that finish within the deadline finish', async () => {
    const { tracker, outcomes } = watched();
    const run = controllable();
    const answer = tracker.track('run', 'org', {}, run.work);
    const drained = tracker.drain(60);
    setTimeout(run.finish, 20);
    expect(await answer).toBe('done');
    expect(await drained).toEqual({ finished: 1, cancelled: 0, abandoned: 0 });
    expect(outcomes).toEqual(['completed']);
  });

  it('cancels what is left at the deadline with TASK_RUN_SHUTDOWN, not as a user cancel', async () => {
    const { tracker, outcomes } = watched();
    const run = controllable();
    const answer = tracker.track('run', 'org', {}, run.work);
    answer.catch(() => undefined);
    expect(await tracker.drain(0.05)).toEqual({ finished: 0, cancelled: 1, abandoned: 0 });
    await expect(answer).rejects.toMatchObject({ code: 'TASK_RUN_SHUTDOWN', status: 503 });
    expect(outcomes).toEqual(['shutdown']);
  });

  it("keeps an analyst's own cancel a cancel", async () => {
    const { tracker, outcomes } = watched();
    const controller = new AbortController();
    const run = controllable();
    const answer = tracker.track('run', 'org', { signal: controller.signal }, run.work);
    controller.abort();
    await expect(answer).rejects.toMatchObject({ code: 'TASK_RUN_CANCELLED' });
    await tracker.drain(0);
    expect(outcomes).toEqual(['cancelled']);
  });

  it('refuses new runs once draining', async () => {
    const { tracker } = watched();
    await tracker.drain(0);
    expect(() => tracker.track('run', 'org', {}, async () => 'x')).toThrow(
      expect.objectContaining({ code: 'SERVER_DRAINING', status: 503 }),
    );
  });
});
