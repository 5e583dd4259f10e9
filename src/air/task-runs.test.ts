// Runs across API servers on one air database: another server follows a run's progress, cancels it, and sees it failed once its server stops.
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { AppError } from '../errors/index.ts';
import type { RunControl } from '../shared/index.ts';
import { openPostgresDb, openSqliteDb, type SqlDb } from '../store/index.ts';
import { TEST_DIALECTS, type TestDb } from '../store/test-support.ts';
import { airStoreOn, RUN_LOST_MESSAGE } from './store/index.ts';
import { TaskRuns } from './task-runs.ts';

const noCap = async () => undefined;
const FAST = { heartbeatMs: 20, lostAfterMs: 400 };

/** A run that reports progress, then waits until it is let go or aborted. */
function heldRun() {
  let release!: () => void;
  const released = new Promise<void>((resolve) => (release = resolve));
  const execute = async (control: RunControl) => {
    control.onProgress?.({ done: 3, total: 10 });
    await new Promise<void>((resolve, reject) => {
      void released.then(resolve);
      control.signal?.addEventListener('abort', () => reject(new AppError('TASK_RUN_CANCELLED')));
    });
    return { id: 42 };
  };
  return { execute, release };
}

describe.each(TEST_DIALECTS)('task runs across servers on $dialect', ({ dialect, open }) => {
  let testDb: TestDb;
  let secondDb: SqlDb;
  let a: TaskRuns;
  let b: TaskRuns;
  beforeEach(async () => {
    testDb = await open();
    // A second connection to the same database stands for a second API server.
    secondDb =
      dialect === 'postgres' ? openPostgresDb(testDb.address) : openSqliteDb(testDb.address);
    a = new TaskRuns(noCap, (await airStoreOn(testDb.db)).runs, FAST);
    b = new TaskRuns(noCap, (await airStoreOn(secondDb)).runs, FAST);
  });
  afterEach(async () => {
    a.close();
    b.close();
    await secondDb.close();
    await testDb.cleanup();
  });

  it('shows a run started on one server, with its progress and result, on the other', async () => {
    const held = heldRun();
    const { run, finished } = await a.start('org', 7, held.execute);
    await expect
      .poll(async () => (await b.get('org', 7, run.id))?.progress)
      .toEqual({
        done: 3,
        total: 10,
      });
    expect((await b.list('org', 7)).map((r) => [r.id, r.state])).toEqual([[run.id, 'running']]);
    expect(await b.get('other-org', 7, run.id)).toBeUndefined();
    held.release();
    await finished;
    expect(await b.get('org', 7, run.id)).toMatchObject({ state: 'completed', resultId: 42 });
  });

  it('passes a cancel made on the other server on to the run', async () => {
    const held = heldRun();
    const { run, finished } = await a.start('org', 7, held.execute);
    await b.cancel('org', 7, run.id);
    await expect(finished).rejects.toMatchObject({ code: 'TASK_RUN_CANCELLED' });
    expect((await b.get('org', 7, run.id))?.state).toBe('cancelled');
  });

  it('shows a run as failed once its server stops heartbeating, and only then', async () => {
    const held = heldRun();
    const { run } = await a.start('org', 7, held.execute);
    await new Promise((resolve) => setTimeout(resolve, 3 * FAST.heartbeatMs));
    expect((await b.get('org', 7, run.id))?.state).toBe('running');
    // The server dies: no more heartbeats, and the run never finishes.
    a.close();
    await expect
      .poll(async () => (await b.get('org', 7, run.id))?.state, { timeout: 5000 })
      .toBe('failed');
    expect((await b.get('org', 7, run.id))?.error).toBe(RUN_LOST_MESSAGE);
  });
});
