// One user's endless loop, memory bomb or flood of properties is that user's exception; the users around it run normally.
import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { compileTask, type UserOutcome } from './index.ts';
import { liveSandboxProcesses, runOne, runUsers, usersWithSecrets } from './test-support.ts';

/** Users 0..3; only user 1 runs `bomb`, everyone then reports its id. */
async function aroundUserOne(
  bomb: string,
  limits: Parameters<typeof runUsers>[2] = {},
): Promise<UserOutcome[]> {
  return runUsers(
    `if (tables.t[0].id === 1) { ${bomb} }
     report_property("ok", tables.t[0].id);`,
    usersWithSecrets(4),
    limits,
  );
}

const fine = (id: number): UserOutcome => ({ ok: true, properties: [['ok', String(id)]] });

describe('time limit', () => {
  it('turns an endless loop into the timeout exception for that user only', async () => {
    expect(await aroundUserOne(`while (true) {}`, { timeoutMs: 300 })).toEqual([
      fine(0),
      { ok: false, error: 'Timeout: the task ran longer than 300 ms for this user' },
      fine(2),
      fine(3),
    ]);
  });

  it('counts promise jobs the run leaves behind against the same limit', async () => {
    const outcomes = await aroundUserOne(
      `Promise.resolve().then(function again() { return Promise.resolve().then(again); });
       (async () => { for (;;) await null; })();`,
      { timeoutMs: 300, memoryLimitMb: 256 },
    );
    expect(outcomes[1]).toMatchObject({
      ok: false,
      error: expect.stringMatching(/^(Timeout|Out of memory): /),
    });
    expect([outcomes[0], outcomes[2], outcomes[3]]).toEqual([fine(0), fine(2), fine(3)]);
  });
});

describe('time limit on a busy machine', () => {
  /** A process's CPU time so far, in clock ticks (utime + stime of /proc/<pid>/stat). */
  function cpuTicks(pid: number): number {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
    return Number(fields[11]) + Number(fields[12]);
  }

  it('runs a user whose run was held past its limit again, instead of calling it a timeout', async () => {
    // The sandbox process is stopped (SIGSTOP) for longer than the user's limit while the user's
    // run works, as a loaded machine may leave a niceness-19 process without a core. The stop
    // comes once the run has used CPU time after its lookup: time spent waiting for a lookup does
    // not count against the limit (a run whose lookup the host held for 450 ms finished within a
    // 50 ms limit), so a stop during the lookup would prove nothing. The lookup's answer is how
    // long the run loops: the first run gets seconds of work, so that the stop surely lands while
    // it works (with 20 ms of work, a loaded suite once stopped it only after it had finished);
    // the second gets none, so that it finishes even when the machine starves it too.
    let lookups = 0;
    let pid: number | undefined;
    const program = compileTask(
      `const n = Number(lookup("t", "k")); let x = 0; for (let i = 0; i < n; i++) x = (x + i) | 0;
       report_property("x", x === -1 ? "never" : "done");`,
      { timeoutMs: 1000 },
      {
        lookup() {
          if (lookups++ > 0) return '0';
          [pid] = liveSandboxProcesses();
          const atAnswer = cpuTicks(pid!);
          const watch = setInterval(() => {
            if (cpuTicks(pid!) === atAnswer) return;
            clearInterval(watch);
            process.kill(pid!, 'SIGSTOP');
            setTimeout(() => process.kill(pid!, 'SIGCONT'), 1500);
          }, 1);
          return '1e8';
        },
      },
    );
    try {
      const outcome = await program.runUser({ tables: {} });
      expect(pid).toBeDefined();
      // The first run was stopped at its wall limit with almost no CPU time used; a second run
      // (a second lookup) finished.
      expect(lookups).toBe(2);
      expect(outcome).toEqual({ ok: true, properties: [['x', 'done']] });
    } finally {
      program.dispose();
    }
  });
});

describe('memory limit', () => {
  const outOfMemory = {
    ok: false,
    error: 'Out of memory: the task used more than 64 MB for this user',
  };

  it('turns a growing array into the memory exception, then runs the next users normally', async () => {
    expect(
      await aroundUserOne(`const a = []; while (true) a.push({ n: a.length });`, {
        timeoutMs: 20_000,
      }),
    ).toEqual([fine(0), outOfMemory, fine(2), fine(3)]);
  });

  it('survives the bombs that abort the process hosting the isolate', async () => {
    // A Map, an object or a fill that grows past the heap in one allocation makes V8 abort
    // the whole process; only the sandbox process dies, and a new one takes the next user.
    for (const bomb of [
      `const m = new Map(); for (let i = 0; ; i++) m.set(i, i);`,
      `const o = {}; for (let i = 0; ; i++) o["k" + i] = i;`,
      `new Array(1e8).fill(0);`,
    ]) {
      expect(await aroundUserOne(bomb, { timeoutMs: 20_000 })).toEqual([
        fine(0),
        outOfMemory,
        fine(2),
        fine(3),
      ]);
    }
  });

  it('keeps a streaming user’s previous accumulator when the run runs out of memory', async () => {
    const [outcome] = await runUsers(
      `accumulator = 2; const m = new Map(); for (let i = 0; ; i++) m.set(i, i);`,
      [{ tables: {}, accumulator: 1 }],
      { timeoutMs: 20_000 }, // the interpreter (--jitless) needs more than a second to fill 64 MB
    );
    expect(outcome).toEqual({ ...outOfMemory, accumulator: 1 });
  });
});

describe('property limits', () => {
  it('fails a user who reports more distinct properties than allowed, even if the task catches it', async () => {
    const tooMany = await runUsers(
      `for (let i = 0; i < 20; i++) report_property("p", i);`,
      [{ tables: {} }],
      {
        maxPropertiesPerUser: 10,
      },
    );
    const caught = await runUsers(
      `for (let i = 0; i < 20; i++) { try { report_property("p", i); } catch {} } report_property("after", 1);`,
      [{ tables: {} }],
      { maxPropertiesPerUser: 10 },
    );
    const error = 'RangeError: report_property: more than 10 distinct properties for one user';
    expect(tooMany).toEqual([{ ok: false, error }]);
    expect(caught).toEqual([{ ok: false, error }]);
  });

  it('counts repeats of one pair once against the limit', async () => {
    const outcomes = await runUsers(
      `for (let i = 0; i < 50; i++) report_property("p", 1);`,
      [{ tables: {} }],
      {
        maxPropertiesPerUser: 1,
      },
    );
    expect(outcomes).toEqual([{ ok: true, properties: [['p', '1']] }]);
  });

  it('rejects empty or missing labels and labels or values over 1,000 characters', async () => {
    expect(await runOne(`report_property("", 1);`)).toEqual({
      ok: false,
      error: 'TypeError: report_property: the label must be a non-empty string',
    });
    expect(await runOne(`report_property(undefined, 1);`)).toEqual({
      ok: false,
      error: 'TypeError: report_property: the label is undefined; it must be a non-empty string',
    });
    expect(await runOne(`report_property("x".repeat(1001), 1);`)).toEqual({
      ok: false,
      error: 'RangeError: report_property: the label is longer than 1000 characters',
    });
    expect(await runOne(`report_property("v", "x".repeat(1001));`)).toEqual({
      ok: false,
      error: 'RangeError: report_property: the value is longer than 1000 characters',
    });
    expect(await runOne(`report_property("x".repeat(1000), "y".repeat(1000));`)).toMatchObject({
      ok: true,
    });
  });
});

describe('limit settings', () => {
  it('rejects limits that cannot work', async () => {
    expect(() => compileTask('', { timeoutMs: 0 })).toThrow(
      /timeoutMs must be an integer of at least 1/,
    );
    expect(() => compileTask('', { memoryLimitMb: 4 })).toThrow(
      /memoryLimitMb must be an integer of at least 8/,
    );
    expect(() => compileTask('', { maxPropertiesPerUser: 1.5 })).toThrow(/maxPropertiesPerUser/);
  });

  it('refuses to run after dispose', async () => {
    const program = compileTask(`report_property("a", 1);`);
    expect(await program.runUser({ tables: {} })).toEqual({ ok: true, properties: [['a', '1']] });
    program.dispose();
    await expect(program.runUser({ tables: {} })).rejects.toThrow(/disposed/);
  });
});
