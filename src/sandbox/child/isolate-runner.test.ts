// The isolate runner: a new isolate for the user after a heavy run, starved runs run again, and later isolates built from the first one's code cache.
import { describe, expect, it } from 'vitest';
import { TASK_BODY_SUFFIX, TASK_PARAMETERS } from '../task-shape.ts';
// @ts-expect-error -- plain JavaScript of the sandbox process, without type declarations
import { IsolateRunner, MAX_ATTEMPTS, STARVED } from './isolate-runner.mjs';
// @ts-expect-error -- the same module
import { scriptsCompiledFromCache } from './isolate-runner.mjs';

interface Runner {
  session: unknown;
  prepare(): void;
  runUser(inputJson: string, attempt?: number): string | symbol;
  dispose(): void;
}

/** A finished run's outcome, parsed; a starved run fails the test here (compare with STARVED). */
function parsed(outcome: string | symbol): unknown {
  if (typeof outcome !== 'string') throw new Error('the run was starved, not finished');
  return JSON.parse(outcome);
}

/** A user whose `mb` says how many MiB of live objects its run builds (and drops at the end). */
const CODE = `
  const rows = [];
  for (let i = 0; i < tables.mb * 16384; i++) rows.push({ i, text: "row " + i });
  report_property("rows", rows.length);`;

function runner(code = CODE, timeoutMs = 20_000, cpuMs?: () => number): Runner {
  return new IsolateRunner(
    {
      code,
      parameters: TASK_PARAMETERS,
      bodySuffix: TASK_BODY_SUFFIX,
      freshPerUser: false,
      limits: { timeoutMs, memoryLimitMb: 64, maxPropertiesPerUser: 100 },
      maxTextLength: 1000,
      maxErrorLength: 300,
      hasLookup: false,
    },
    () => undefined,
    cpuMs,
  ) as Runner;
}

describe('isolate runner heap', () => {
  it('starts the user after a heavy run in a new isolate, so how close it may get to the limit does not depend on that run', () => {
    const r = runner();
    try {
      r.prepare(); // as the sandbox process does before every frame
      const first = r.session;
      expect(first).toBeDefined();
      expect(parsed(r.runUser(JSON.stringify({ t: { mb: 0.1 } })))).toMatchObject({
        ok: true,
      });
      expect(r.session).toBe(first); // light runs keep the isolate
      expect(parsed(r.runUser(JSON.stringify({ t: { mb: 24 } })))).toMatchObject({ ok: true });
      expect(r.session).toBeUndefined(); // retired: the next run opens a new one
      r.prepare();
      expect(parsed(r.runUser(JSON.stringify({ t: { mb: 0.1 } })))).toMatchObject({
        ok: true,
      });
      expect(r.session).not.toBe(first);
    } finally {
      r.dispose();
    }
  });
});

describe('isolate runner time limit', () => {
  const LOOP = `for (;;) {}`;
  const TIMEOUT = { ok: false, limit: 'timeout' };

  it('calls a run a timeout when it had its limit in CPU time by its wall limit', () => {
    // A CPU clock that runs with the wall clock, as on a quiet machine: the real one would make
    // the test depend on the machine's load.
    const r = runner(LOOP, 50, () => performance.now());
    try {
      r.prepare();
      expect(parsed(r.runUser('{}'))).toEqual(TIMEOUT);
      expect(r.session).toBeUndefined();
    } finally {
      r.dispose();
    }
  });

  it('runs a user again once when the machine starved the run, and the second run decides', () => {
    // A CPU clock that stands still: every run looks starved, as on a machine busy elsewhere.
    const r = runner(LOOP, 50, () => 0);
    try {
      expect(MAX_ATTEMPTS).toBe(2);
      r.prepare();
      let began = performance.now();
      expect(r.runUser('{}', 0)).toBe(STARVED);
      expect(performance.now() - began).toBeGreaterThanOrEqual(50 - 5); // its limit of wall time
      expect(r.session).toBeUndefined(); // the next run starts on a new isolate
      r.prepare();
      began = performance.now();
      expect(parsed(r.runUser('{}', 1))).toEqual(TIMEOUT);
      expect(performance.now() - began).toBeGreaterThanOrEqual(100 - 5); // twice the limit
    } finally {
      r.dispose();
    }
  });

  it('does not run again a user whose run finished, however long it waited', () => {
    const r = runner(`report_property("a", 1);`, 50, () => 0);
    try {
      r.prepare();
      expect(parsed(r.runUser('{}'))).toMatchObject({ ok: true });
    } finally {
      r.dispose();
    }
  });
});

describe('isolate runner code cache', () => {
  it("builds a later isolate from the first one's code cache, and it runs users the same", () => {
    const code = `report_property("mb", Utils.quantize(tables.mb, 2)); report_property("d", DateTime.day(0));`;
    const first = runner(code);
    const later = runner(code);
    try {
      first.prepare();
      const before = scriptsCompiledFromCache() as number;
      later.prepare();
      // SES, lockdown(), the stdlib, the task functions and the driver: every guest script.
      expect((scriptsCompiledFromCache() as number) - before).toBe(5);
      const input = JSON.stringify({ t: { mb: 3 } });
      expect(parsed(later.runUser(input))).toEqual(parsed(first.runUser(input)));
      expect(parsed(later.runUser(input))).toMatchObject({ ok: true });
    } finally {
      first.dispose();
      later.dispose();
    }
  });
});
