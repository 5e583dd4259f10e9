// What a run may report and when: labels that keep bucket names unambiguous, and reports made by the run's own promise jobs.
import { describe, expect, it } from 'vitest';
import { reports, runOne, runUsers, usersWithSecrets } from './test-support.ts';

const LABEL_SEPARATOR_ERROR =
  'TypeError: report_property: a label must not contain ": " (it separates label and value in bucket names); use another separator, such as " - "';

describe('labels', () => {
  it('rejects ": " in a label, so "a: b" = "c" and "a" = "b: c" cannot both be bucket "a: b: c"', async () => {
    expect(await runOne(`report_property("a: b", "c");`)).toEqual({
      ok: false,
      error: LABEL_SEPARATOR_ERROR,
    });
    // It fails the run even when the task catches it, like every broken reporting rule.
    expect(
      await runOne(`try { report_property("a: b", "c"); } catch {} report_property("a", "b: c");`),
    ).toEqual({ ok: false, error: LABEL_SEPARATOR_ERROR });
  });

  it('keeps every other label, and values with ": ", unchanged', async () => {
    expect(
      reports(
        await runOne(`
          report_property("a", "b: c");
          report_property("a:b", "c");
          report_property("a :b", 1);
          report_property("time 12:30", "x");
          report_property("a:", " b");`),
      ),
    ).toEqual(['a=b: c', 'a:b=c', 'a :b=1', 'time 12:30=x', 'a:= b']);
  });
});

describe('reports from promise jobs', () => {
  it('keeps what the run reports from promise jobs that run before it ends', async () => {
    const outcome = await runOne(`
      report_property("sync", 1);
      Promise.resolve().then(() => report_property("then", 2));
      (async () => {
        for (let i = 0; i < 100; i++) await null;
        report_property("after 100 awaits", 3);
      })();`);
    expect(reports(outcome)).toEqual(['sync=1', 'then=2', 'after 100 awaits=3']);
  });

  it('applies the reporting rules to a job’s reports, failing the run as a synchronous report would', async () => {
    expect(
      await runOne(
        `report_property("kept", 1); Promise.resolve().then(() => report_property("", 1)).catch(() => {});`,
      ),
    ).toEqual({
      ok: false,
      error: 'TypeError: report_property: the label must be a non-empty string',
    });
  });

  it('lets no report reach another user: each run’s jobs end with it', async () => {
    const outcomes = await runUsers(
      `const me = tables.t[0].id;
       Promise.resolve().then(() => report_property("job of", me));
       report_property("me", me);`,
      usersWithSecrets(3),
    );
    expect(outcomes.map(reports)).toEqual([
      ['me=0', 'job of=0'],
      ['me=1', 'job of=1'],
      ['me=2', 'job of=2'],
    ]);
  });
});

describe('typed arrays', () => {
  // Still no shared memory: SharedArrayBuffer and Atomics stay absent (sandbox-escape.test.ts).
  it('has Float32Array and Float64Array, like the other typed arrays', async () => {
    const outcome = await runOne(`
      const f = new Float64Array(3); f[0] = 1.5; f.set([2.25], 1);
      const g = Float32Array.from([0.5, 1]);
      report_property("f64", Array.from(f).join());
      report_property("f32", g.reduce((s, x) => s + x, 0));
      report_property("bytes", new Uint8Array(new Float64Array([1]).buffer).join());
      report_property("frozen", Object.isFrozen(Float64Array) && Object.isFrozen(Float64Array.prototype));`);
    expect(reports(outcome)).toEqual([
      'f64=1.5,2.25,0',
      'f32=1.5',
      'bytes=0,0,0,0,0,0,240,63',
      'frozen=true',
    ]);
  });
});
