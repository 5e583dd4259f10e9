// The isolate runner gives the next user a new isolate after a run that grew the heap, and keeps it after light runs.
import { describe, expect, it } from 'vitest';
import { TASK_BODY_SUFFIX, TASK_PARAMETERS } from '../task-shape.ts';
// @ts-expect-error -- plain JavaScript of the sandbox process, without type declarations
import { IsolateRunner } from './isolate-runner.mjs';

interface Runner {
  session: unknown;
  prepare(): void;
  runUser(inputJson: string): string;
  dispose(): void;
}

/** A user whose `mb` says how many MiB of live objects its run builds (and drops at the end). */
const CODE = `
  const rows = [];
  for (let i = 0; i < tables.mb * 16384; i++) rows.push({ i, text: "row " + i });
  report_property("rows", rows.length);`;

function runner(): Runner {
  return new IsolateRunner(
    {
      code: CODE,
      parameters: TASK_PARAMETERS,
      bodySuffix: TASK_BODY_SUFFIX,
      freshPerUser: false,
      limits: { timeoutMs: 20_000, memoryLimitMb: 64, maxPropertiesPerUser: 100 },
      maxTextLength: 1000,
      maxErrorLength: 300,
      hasLookup: false,
    },
    () => undefined,
  ) as Runner;
}

describe('isolate runner heap', () => {
  it('starts the user after a heavy run in a new isolate, so how close it may get to the limit does not depend on that run', () => {
    const r = runner();
    try {
      r.prepare(); // as the sandbox process does before every frame
      const first = r.session;
      expect(first).toBeDefined();
      expect(JSON.parse(r.runUser(JSON.stringify({ t: { mb: 0.1 } })))).toMatchObject({ ok: true });
      expect(r.session).toBe(first); // light runs keep the isolate
      expect(JSON.parse(r.runUser(JSON.stringify({ t: { mb: 24 } })))).toMatchObject({ ok: true });
      expect(r.session).toBeUndefined(); // retired: the next run opens a new one
      r.prepare();
      expect(JSON.parse(r.runUser(JSON.stringify({ t: { mb: 0.1 } })))).toMatchObject({ ok: true });
      expect(r.session).not.toBe(first);
    } finally {
      r.dispose();
    }
  });
});
