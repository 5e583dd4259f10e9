// Inside the isolate: runs the task once per user with fresh arguments, and reads back what the run reported.
// A script, not a module: its completion value is the factory the isolate runner calls once after lockdown().
/* global harden */

// eslint-disable-next-line @typescript-eslint/no-unused-expressions -- the completion value is the point
(function makeTaskDriver(stdlib, taskFunctions, hostLookup, config) {
  'use strict';

  const { warmUpCode, maxProperties, maxTextLength, maxErrorLength, hasLookup } = config;

  // Why no state can pass between users: every intrinsic is frozen by lockdown(), the
  // compartment's global object is hardened, and the task function is either a copy compiled for
  // this user or one that keeps no state of its own (task-functions.js). Everything a run can
  // reach is either frozen and shared (intrinsics, the compartment's globals, the stdlib,
  // `lookup`) or created for that run (the arguments, the rows, report_property, every object
  // the code makes). A closure or promise job that outlives its run can only reach that run's
  // objects. What V8 itself keeps between runs is made the same for every run by the sandbox
  // process's flags (sandbox-process.ts) and by warming up the shared functions (warmUp below).
  let Errors;
  const useCompartmentErrors = () => {
    // Errors the task may catch are made with the compartment's (shared, tamed) constructors.
    const g = taskFunctions.globals();
    Errors = { Error: g.Error, TypeError: g.TypeError, RangeError: g.RangeError };
  };
  useCompartmentErrors();

  /** This user's task function; a rebuilt compartment is warmed up first, like the first one. */
  function nextTask() {
    const { task, rebuilt } = taskFunctions.next();
    if (rebuilt) {
      useCompartmentErrors();
      warmUp();
    }
    return task;
  }

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
          "report_property was called after this user's run had ended; report while the task runs or from the promise jobs it starts",
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
      // A bucket is published as "label: value", so with ": " allowed in labels two buckets
      // (label "a: b" value "c", label "a" value "b: c") would read the same.
      if (l.includes(': ')) {
        violate(
          Errors.TypeError,
          'report_property: a label must not contain ": " (it separates label and value in bucket names); use another separator, such as " - "',
        );
      }
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

  /** The run in progress: begun by `start`, read and closed by `finish` once its jobs have run. */
  let current;

  /** Starts one user's run: JSON text in; the promise jobs it leaves run before `finish`. */
  function start(inputJson, makeTask = nextTask) {
    let task;
    try {
      task = makeTask(); // first: it may rebuild the compartment, and warm up with runs of its own
    } catch {
      task = () => {
        throw new Errors.Error('the task could not be compiled for this user');
      };
    }
    const run = startRun();
    current = { run, threw: false, thrown: undefined, result: undefined };
    try {
      const input = JSON.parse(inputJson);
      current.result = task(
        input.t,
        run.report,
        lookup,
        stdlib.to_date,
        input.a,
        stdlib.Utils,
        stdlib.DateTime,
      );
    } catch (thrown) {
      current.threw = true;
      current.thrown = thrown;
    }
  }

  /**
   * Ends the run and returns its outcome as JSON text, so only data crosses the boundary. The
   * isolate runs the promise jobs a run leaves behind between `start` and `finish`, so what they
   * report counts; once the run is closed, report_property throws.
   */
  function finish() {
    const state = current;
    current = undefined;
    if (state === undefined) return failure('Error: the run had already ended');
    const { run } = state;
    run.open = false;
    if (state.threw) return failure(run.violation ?? describe(state.thrown));
    if (run.violation !== undefined) return failure(run.violation);
    let json;
    try {
      json = accumulatorJson(state.result);
    } catch (message) {
      return failure(typeof message === 'string' ? message : describe(message));
    }
    const accumulatorPart = json === undefined ? '' : `,"a":${json}`;
    return `{"ok":true,"p":${JSON.stringify(run.pairs)}${accumulatorPart}}`;
  }

  /** Closes a run whose outcome is decided elsewhere (one of its promise jobs failed). */
  function abandon() {
    if (current !== undefined) current.run.open = false;
    current = undefined;
  }

  /**
   * Runs every function the runs share (this driver's, the stdlib's, SES's wrappers of the
   * intrinsics) before the first user, so that no run is the first to call one: a first call
   * does work at the depth where it happens (V8 installs the function's code and feedback,
   * checking for 40 KiB of free stack), which a later user could see as a stack depth.
   */
  function warmUp() {
    const warm = taskFunctions.compile(warmUpCode);
    // Never a lookup that reaches the host: it is not listening yet (the warm-up's keys are too long).
    const tables = { max: maxTextLength, properties: maxProperties };
    for (const mode of ['ok', 'throw', 'value', 'accumulator', 'cycle', 'violation']) {
      start(JSON.stringify({ t: { ...tables, mode } }), () => warm);
      finish();
      start(JSON.stringify({ t: { ...tables, mode }, a: { mode } }), () => warm);
      abandon();
    }
  }
  warmUp();

  return harden({ start, finish, abandon });
});
