// A batch leaves its sandbox process in the same state whatever its users did, so the next batch's
// time cannot say that a user of the one before timed out or ran heavy.
import { describe, expect, it } from 'vitest';
import { compileTask } from './compile-task.ts';

/** Loops for a user whose row says so, to the time limit; the others report at once. */
const TASK = `if (tables.t[0].loop) for (;;) {}
report_property("g", "x");`;
const LIGHT = { tables: { t: [{ loop: false }] } };
const LOOPING = { tables: { t: [{ loop: true }] } };
const ROUNDS = 7;

describe('the batch after a timeout', () => {
  it('takes no longer than the batch after a light one (the isolate is replaced before the answer)', async () => {
    const program = compileTask(TASK, { timeoutMs: 100, memoryLimitMb: 64 });
    try {
      const afterLight: number[] = [];
      const afterTimeout: number[] = [];
      // Alternated, so that both see the same machine.
      for (let round = 0; round < ROUNDS; round++) {
        for (const [before, times] of [
          [LIGHT, afterLight],
          [LOOPING, afterTimeout],
        ] as const) {
          await program.runUsers([LIGHT, before]);
          const started = performance.now();
          const [outcome] = await program.runUsers([LIGHT]);
          times.push(performance.now() - started);
          expect(outcome).toMatchObject({ ok: true });
        }
      }
      // The least disturbed batch of each kind: the sandbox runs at niceness 19, so on a busy
      // machine (the test suite's own workers) any batch's wall time stretches many times over,
      // and a median of a few compares the load of two moments more than the batches.
      const light = Math.min(...afterLight);
      const timedOut = Math.min(...afterTimeout);
      console.log(
        `next batch: ${light.toFixed(1)} ms after a light batch, ${timedOut.toFixed(1)} ms after a timeout (fastest of ${ROUNDS})`,
      );
      // Opening an isolate (SES, the stdlib, the task) costs tens of ms, a light user well under
      // one: a batch that had to open one would take many times as long, even at its fastest.
      // Against the same run's own light batches, with room for a busy machine, not an absolute.
      expect(timedOut).toBeLessThan(3 * light + 5);
    } finally {
      await program.dispose();
    }
  });
});
