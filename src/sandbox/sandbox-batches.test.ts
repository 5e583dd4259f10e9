// Running users in batches gives every user exactly the outcome a run of its own would give.
import { describe, expect, it } from 'vitest';
import { compileTask, type TaskProgram, type UserInput, type UserOutcome } from './index.ts';

const users = (n: number): UserInput[] =>
  Array.from({ length: n }, (_, i) => ({
    tables: { t: [{ id: i }] },
    ...(i % 4 === 0 ? { accumulator: i } : {}),
  }));

async function runOneByOne(program: TaskProgram, inputs: UserInput[]): Promise<UserOutcome[]> {
  const outcomes: UserOutcome[] = [];
  for (const input of inputs) outcomes.push(await program.runUser(input));
  return outcomes;
}

async function bothWays(code: string, inputs: UserInput[], limits = {}) {
  const single = compileTask(code, { timeoutMs: 300, memoryLimitMb: 32, ...limits });
  const batched = compileTask(code, { timeoutMs: 300, memoryLimitMb: 32, ...limits });
  try {
    return {
      one: await runOneByOne(single, inputs),
      many: await batched.runUsers(inputs),
    };
  } finally {
    single.dispose();
    batched.dispose();
  }
}

describe('sandbox batches', () => {
  it('match one-at-a-time runs for reports, errors and accumulators', async () => {
    const { one, many } = await bothWays(
      `const id = tables.t[0].id; if (id % 5 === 3) throw new Error("bad " + (id % 2)); report_property("mod", id % 3); accumulator = (accumulator || 0) + id;`,
      users(40),
    );
    expect(many).toEqual(one);
    expect(many.filter((o) => !o.ok)).toHaveLength(8);
  });

  it('keep a timeout to the user who looped; the users after it run normally', async () => {
    const { one, many } = await bothWays(
      `if (tables.t[0].id === 2) { while (true) {} } report_property("ok", tables.t[0].id);`,
      users(5),
    );
    expect(many).toEqual(one);
    expect(many[2]).toMatchObject({ ok: false, error: expect.stringMatching(/^Timeout/) });
    expect(many.filter((o) => o.ok)).toHaveLength(4);
  });

  it('replay a batch whose process died, so only the user who crashed it gets the memory exception', async () => {
    const { one, many } = await bothWays(
      // A Map that outgrows the heap aborts the process; a fill of new Array(1e8) did too, but the
      // sandbox's interpreter (--jitless) takes longer than any sensible timeout to get there.
      `if (tables.t[0].id === 3) { const m = new Map(); for (let i = 0; ; i++) m.set(i, i); } report_property("ok", tables.t[0].id);`,
      users(6),
      { timeoutMs: 20_000 },
    );
    expect(many).toEqual(one);
    expect(many[3]).toMatchObject({ ok: false, error: expect.stringMatching(/^Out of memory/) });
    expect(many.filter((o) => o.ok)).toHaveLength(5);
  });

  it('reach the same recursion depth as single runs, so a user cannot tell a replayed batch (one user crashed it) from a whole one', async () => {
    // The isolate runs on the sandbox process's stack: a different call path into it would move
    // the depth at which a run's recursion overflows.
    const { one, many } = await bothWays(
      `let d = 0; function r() { d++; r(); } try { r(); } catch {} report_property("depth", d);`,
      users(3),
    );
    expect(many).toEqual(one);
  });

  it('carry no state between users of one batch', async () => {
    const { many } = await bothWays(
      `let n = 0; n++; try { globalThis.seen = (globalThis.seen || 0) + 1 } catch (e) {} report_property("n", n);`,
      users(10),
    );
    expect(many.map((o) => (o.ok ? o.properties : o.error))).toEqual(Array(10).fill([['n', '1']]));
  });
});
