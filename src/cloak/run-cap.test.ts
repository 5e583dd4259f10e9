// The run cap counts a run until both its answer and its sandbox work have settled.
import { describe, expect, it } from 'vitest';
import { AppError } from '../errors/index.ts';
import { RunCap } from './run-cap.ts';

/** A promise with its resolve and reject at hand. */
function deferred<T = void>() {
  let resolve!: (value: T) => void;
  let reject!: (error: unknown) => void;
  const promise = new Promise<T>((res, rej) => {
    resolve = res;
    reject = rej;
  });
  return { promise, resolve, reject };
}

const tooMany = (error: unknown) => error instanceof AppError && error.code === 'TOO_MANY_RUNS';

describe('RunCap', () => {
  it('refuses a run beyond the cap, per organisation', () => {
    const cap = new RunCap(1);
    void cap.count('a', () => new Promise(() => undefined));
    expect(() => cap.check('a')).toThrow(AppError);
    expect(() => cap.check('b')).not.toThrow();
  });

  it('holds a cancelled run until its work has stopped, and answers only then', async () => {
    const cap = new RunCap(1);
    const work = deferred();
    let answered = false;
    const run = cap
      .count('a', (track) => {
        track(work.promise);
        return Promise.reject(new Error('cancelled')); // the answer settles at once
      })
      .catch(() => (answered = true));
    await new Promise((resolve) => setImmediate(resolve));
    expect(answered).toBe(false);
    expect(cap.running('a')).toBe(1);
    await expect(cap.count('a', () => Promise.resolve())).rejects.toSatisfy(tooMany);
    work.resolve();
    await run;
    expect(answered).toBe(true);
    expect(cap.running('a')).toBe(0);
  });

  it('holds a run whose work ended early until its answer leaves (the release schedule)', async () => {
    const cap = new RunCap(2);
    const answer = deferred<string>();
    const run = cap.count('a', (track) => {
      track(Promise.resolve());
      return answer.promise;
    });
    await new Promise((resolve) => setImmediate(resolve));
    expect(cap.running('a')).toBe(1);
    answer.resolve('result');
    expect(await run).toBe('result');
    expect(cap.running('a')).toBe(0);
  });
});
