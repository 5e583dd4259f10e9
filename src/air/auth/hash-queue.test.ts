// The password-check queue: bounded in flight, bounded waiting, the priority lane served first.
import { describe, expect, it } from 'vitest';
import { HashQueue } from './hash-queue.ts';

/** Work that finishes when the test says so. */
function gate() {
  let open!: () => void;
  const opened = new Promise<void>((resolve) => (open = resolve));
  return { open, work: () => opened };
}

describe('hash queue', () => {
  it('runs at most inFlight at once, queues up to its lane limit and refuses beyond it', async () => {
    const queue = new HashQueue({ inFlight: 1, normalInFlight: 1, priority: 1, normal: 1 });
    const first = gate();
    const order: string[] = [];
    const a = queue.run('normal', async () => {
      await first.work();
      order.push('a');
    });
    const b = queue.run('normal', async () => void order.push('b'));
    expect(a).toBeDefined();
    expect(b).toBeDefined();
    expect(queue.run('normal', async () => undefined)).toBeUndefined();
    const p = queue.run('priority', async () => void order.push('p'));
    expect(p).toBeDefined();
    expect(queue.run('priority', async () => undefined)).toBeUndefined();
    first.open();
    await Promise.all([a, b, p]);
    expect(order).toEqual(['a', 'p', 'b']);
  });

  it('keeps a slot for the priority lane while the normal lane is at its own limit', async () => {
    const queue = new HashQueue({ inFlight: 2, normalInFlight: 1, priority: 1, normal: 1 });
    const first = gate();
    const order: string[] = [];
    const a = queue.run('normal', async () => {
      await first.work();
      order.push('a');
    });
    const b = queue.run('normal', async () => void order.push('b'));
    const p = queue.run('priority', async () => void order.push('p'));
    await p;
    expect(order).toEqual(['p']);
    first.open();
    await Promise.all([a, b]);
    expect(order).toEqual(['p', 'a', 'b']);
  });

  it('frees its slot when the work fails', async () => {
    const queue = new HashQueue({ inFlight: 1, normalInFlight: 1, priority: 0, normal: 0 });
    await expect(queue.run('normal', async () => Promise.reject(new Error('x')))).rejects.toThrow();
    expect(await queue.run('normal', async () => 'ok')).toBe('ok');
  });
});
