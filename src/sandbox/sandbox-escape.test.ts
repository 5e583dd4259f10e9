// Nothing of the host is reachable from task code: no modules, process, network, timers, clocks or randomness.
import { describe, expect, it } from 'vitest';
import { compileTask, TaskCompileError } from './index.ts';
import { reports, runOne } from './test-support.ts';

/** The compartment's global object: ECMAScript built-ins plus SES's harden/lockdown/Compartment. */
const ALLOWED_GLOBALS = new Set([
  ...'Infinity NaN undefined isFinite isNaN parseFloat parseInt decodeURI decodeURIComponent'.split(
    ' ',
  ),
  ...'encodeURI encodeURIComponent escape unescape eval Function globalThis'.split(' '),
  ...'Array ArrayBuffer BigInt BigInt64Array BigUint64Array Boolean DataView Date Error'.split(' '),
  ...'EvalError Float32Array Float64Array Int8Array Int16Array Int32Array JSON Map Math'.split(' '),
  ...'Number Object Promise Proxy RangeError ReferenceError Reflect RegExp Set String'.split(' '),
  ...'Symbol SyntaxError TypeError Uint8Array Uint8ClampedArray Uint16Array Uint32Array'.split(' '),
  ...'URIError WeakMap WeakSet AggregateError harden lockdown Compartment'.split(' '),
]);

describe('sandbox escape', () => {
  it('has no require, process, fetch, timers, console or other host globals', async () => {
    const names = [
      'require',
      'module',
      'exports',
      'process',
      'Buffer',
      'global',
      'fetch',
      'XMLHttpRequest',
      'WebSocket',
      'setTimeout',
      'setInterval',
      'setImmediate',
      'clearTimeout',
      'queueMicrotask',
      'console',
      'performance',
      'WebAssembly',
      'SharedArrayBuffer',
      'Atomics',
      'Intl',
      'FinalizationRegistry',
      'WeakRef',
      'ivm',
      '_ivm',
      'isolatedVm',
    ];
    const outcome = await runOne(
      `for (const n of ${JSON.stringify(names)}) report_property(n, typeof globalThis[n]);`,
    );
    expect(outcome).toEqual({ ok: true, properties: names.map((n) => [n, 'undefined']) });
  });

  it('exposes only ECMAScript and SES names on the global object', async () => {
    const outcome = await runOne(
      `for (const n of Reflect.ownKeys(globalThis)) report_property("global", String(n));`,
    );
    const names = reports(outcome).map((r) => r.replace(/^global=/, ''));
    expect(
      names.filter((n) => !ALLOWED_GLOBALS.has(n) && n !== 'Symbol(Symbol.unscopables)'),
    ).toEqual([]);
    expect(names).toContain('Math');
  });

  it('rejects import() at compile time and at run time', async () => {
    expect(() => compileTask(`import("node:fs");`)).toThrow(TaskCompileError);
    expect(() => compileTask(`const fs = require("fs");\nimport fs2 from "fs";`)).toThrow(
      /Cannot use import statement outside a module \(line 2, column 1\)/,
    );
    const hidden = await runOne(`Function("return imp" + "ort('node:fs')")();`);
    expect(hidden).toMatchObject({
      ok: false,
      error: expect.stringMatching(/^SyntaxError: Possible import expression rejected/),
    });
    // SES reads an undeclared name as undefined rather than throwing a ReferenceError.
    expect(await runOne(`require("fs");`)).toEqual({
      ok: false,
      error: 'TypeError: require is not a function',
    });
  });

  it('makes Date.now(), new Date() and Math.random() unavailable, so a run depends only on its data', async () => {
    expect(await runOne(`Date.now();`)).toEqual({
      ok: false,
      error: 'TypeError: secure mode Calling %SharedDate%.now() throws',
    });
    expect(await runOne(`new Date();`)).toEqual({
      ok: false,
      error: 'TypeError: secure mode Calling new %SharedDate%() with no arguments throws',
    });
    expect(await runOne(`Math.random();`)).toEqual({
      ok: false,
      error: 'TypeError: secure mode %SharedMath%.random() throws',
    });
    // Dates of data still work, and local time is UTC everywhere.
    expect(
      reports(
        await runOne(
          `report_property("d", new Date(86400000).toISOString()); report_property("h", new Date(0).getHours());`,
        ),
      ),
    ).toEqual(['d=1970-01-02T00:00:00.000Z', 'h=0']);
  });

  it('does not reach a host global through constructor.constructor, Function or eval', async () => {
    const outcome = await runOne(`
      for (const [name, start] of Object.entries({ plain: function () {}, arrow: () => {}, async: async () => {},
          generator: function* () {}, asyncGenerator: async function* () {}, report_property, lookup, rows: tables,
          stdlib: Utils.length })) {
        try { report_property(name, typeof start.constructor.constructor("return this")()); }
        catch (e) { report_property(name, e.message); }
      }
      report_property("Function", typeof Function("return this")());
      report_property("eval", String((0, eval)("typeof process")));
      report_property("this", typeof this);`);
    const blocked = 'Function.prototype.constructor is not a valid constructor.';
    expect(reports(outcome)).toEqual([
      `plain=${blocked}`,
      `arrow=${blocked}`,
      `async=${blocked}`,
      `generator=${blocked}`,
      `asyncGenerator=${blocked}`,
      `report_property=${blocked}`,
      `lookup=${blocked}`,
      `rows=${blocked}`,
      `stdlib=${blocked}`,
      'Function=undefined',
      'eval=undefined',
      'this=undefined',
    ]);
  });

  it('shows no stack traces, so no host path or isolate detail reaches a report', async () => {
    const outcome = await runOne(`
      try { null.x; } catch (e) { report_property("stack", JSON.stringify(e.stack)); }
      const o = {}; Error.captureStackTrace(o); report_property("captured", JSON.stringify(o.stack));`);
    expect(reports(outcome)).toEqual(['stack=""', 'captured=""']);
  });

  it('cannot unfreeze or replace the built-ins it shares with other users', async () => {
    const outcome = await runOne(`
      const shared = [Object.prototype, Array.prototype, Function.prototype, Promise.prototype, Math, JSON,
        Reflect, globalThis, Utils, DateTime, to_date, lookup];
      report_property("all frozen", shared.every(Object.isFrozen));
      try { Object.setPrototypeOf(Object.prototype, {}); } catch (e) { report_property("setPrototypeOf", e.name); }`);
    expect(reports(outcome)).toEqual(['all frozen=true', 'setPrototypeOf=TypeError']);
  });
});
