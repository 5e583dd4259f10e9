// Inside the isolate: compiles the task once in a frozen SES compartment and runs it once per user with fresh arguments.
// A script, not a module: its completion value is the factory the isolate runner calls once after lockdown().
/* global harden, Compartment */

// eslint-disable-next-line @typescript-eslint/no-unused-expressions -- the completion value is the point
(function makeTaskDriver(stdlib, hostLookup, config) {
  'use strict';

  const { code, parameters, bodySuffix, maxProperties, maxTextLength, maxErrorLength, hasLookup } =
    config;

  // Why no state can pass between users: the task is a function compiled once in a compartment
  // whose global object is hardened, and every intrinsic is frozen by lockdown(). Everything a
  // run can reach is either frozen and shared (intrinsics, the compartment's globals, the
  // stdlib, `lookup`, the task function itself) or created for that run (the arguments, the
  // rows, report_property, every object the code makes). A closure or promise job that outlives
  // its run can only reach that run's objects, never the next user's.
  let compartment;
  let task;
  let Errors;
  function compile() {
    compartment = new Compartment({ __options__: true, name: 'task' });
    harden(compartment.globalThis);
    // SES's Function constructor parses the body on its own first, so the code cannot close the
    // function early and run at compile time; the body is strict like everything in a compartment.
    task = harden(new compartment.globalThis.Function(...parameters, code + bodySuffix));
    // Errors the task may catch are made with the compartment's (shared, tamed) constructors.
    const g = compartment.globalThis;
    Errors = { Error: g.Error, TypeError: g.TypeError, RangeError: g.RangeError };
  }
  compile();

  const clip = (text) => (text.length > maxErrorLength ? text.slice(0, maxErrorLength) : text);

  /** A thrown Error becomes "Name: message", anything else String(x); never host detail. */
  function describe(thrown) {
    try {
      if (thrown instanceof Errors.Error) {
        const name = String(thrown.name);
        const message = String(thrown.message);
        return clip(message === '' ? name : `${name}: ${message}`);
      }
      return clip(String(thrown));
    } catch {
      return 'Error: the task threw a value that cannot be converted to a string';
    }
  }

  const lookup = harden(function lookup(table, key) {
    const t = String(table);
    const k = String(key);
    if (!hasLookup) return undefined;
    if (t.length > maxTextLength || k.length > maxTextLength) {
      throw new Errors.RangeError(
        `lookup: the table name or key is longer than ${maxTextLength} characters`,
      );
    }
    let found;
    try {
      found = hostLookup(t, k);
    } catch {
      throw new Errors.Error('lookup: the lookup table could not be read');
    }
    return found === undefined || found === null ? undefined : String(found);
  });

  /** One user's report_property, bound to that user's run and dead once the run has ended. */
  function startRun() {
    const run = { open: true, violation: undefined, pairs: [], byLabel: new Map() };
    // A limit breach fails the run even if the task catches the error and carries on.
    const violate = (ErrorType, message) => {
      const error = new ErrorType(message);
      run.violation ??= describe(error);
      throw error;
    };
    run.report = function report_property(label, value) {
      if (!run.open) {
        throw new Errors.TypeError(
          "report_property was called after this user's run had ended; report synchronously, not from promise callbacks",
        );
      }
      if (label === undefined || label === null) {
        violate(
          Errors.TypeError,
          `report_property: the label is ${label}; it must be a non-empty string`,
        );
      }
      const l = String(label);
      const v = String(value);
      if (l === '')
        violate(Errors.TypeError, 'report_property: the label must be a non-empty string');
      if (l.length > maxTextLength) {
        violate(
          Errors.RangeError,
          `report_property: the label is longer than ${maxTextLength} characters`,
        );
      }
      if (v.length > maxTextLength) {
        violate(
          Errors.RangeError,
          `report_property: the value is longer than ${maxTextLength} characters`,
        );
      }
      let values = run.byLabel.get(l);
      if (values === undefined) {
        values = new Set();
        run.byLabel.set(l, values);
      }
      if (values.has(v)) return;
      if (run.pairs.length >= maxProperties) {
        violate(
          Errors.RangeError,
          `report_property: more than ${maxProperties} distinct properties for one user`,
        );
      }
      values.add(v);
      run.pairs.push([l, v]);
    };
    return run;
  }

  const failure = (message) => JSON.stringify({ ok: false, e: message });

  /** The new accumulator as JSON text, or undefined when the task left none. */
  function accumulatorJson(value) {
    if (value === undefined) return undefined;
    let json;
    try {
      json = JSON.stringify(value);
    } catch (error) {
      throw clip(`TypeError: the accumulator is not JSON-serializable (${describe(error)})`);
    }
    if (json === undefined) {
      throw `TypeError: the accumulator is not JSON-serializable (it is ${typeof value === 'function' ? 'a function' : `a ${typeof value}`})`;
    }
    return json;
  }

  /** SES latches an evaluator shut if a run interrupts it mid-eval; the next user gets a fresh one. */
  function ensureEvaluatorWorks() {
    try {
      compartment.evaluate('0');
    } catch {
      compile();
    }
  }

  /** Runs the task for one user: JSON text in, JSON text out, so only data crosses the boundary. */
  return function runUser(inputJson) {
    const input = JSON.parse(inputJson);
    const run = startRun();
    let result;
    try {
      result = task(
        input.t,
        run.report,
        lookup,
        stdlib.to_date,
        input.a,
        stdlib.Utils,
        stdlib.DateTime,
      );
    } catch (thrown) {
      run.open = false;
      ensureEvaluatorWorks();
      return failure(run.violation ?? describe(thrown));
    }
    run.open = false;
    ensureEvaluatorWorks();
    if (run.violation !== undefined) return failure(run.violation);
    let json;
    try {
      json = accumulatorJson(result);
    } catch (message) {
      return failure(typeof message === 'string' ? message : describe(message));
    }
    const accumulatorPart = json === undefined ? '' : `,"a":${json}`;
    return `{"ok":true,"p":${JSON.stringify(run.pairs)}${accumulatorPart}}`;
  };
});
