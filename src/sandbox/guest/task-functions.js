// Inside the isolate: the frozen SES compartment and the task function each user's run calls (one shared copy, or a fresh copy per user).
// A script, not a module: its completion value is the factory the isolate runner calls once after lockdown().
/* global harden, Compartment */

// eslint-disable-next-line @typescript-eslint/no-unused-expressions -- the completion value is the point
(function makeTaskFunctions(config) {
  'use strict';

  const { code, parameters, bodySuffix, freshPerUser } = config;

  // Why a fresh copy per user: V8 keeps state per compiled function site, shared by every closure
  // made from it (whether a nested function was called before, its feedback, a regular-expression
  // literal's compiled matcher), and a later user can read it off a stack depth. A copy compiled
  // for one user only starts from nothing for everyone (even when V8 finds the source in its
  // compilation cache, each evaluation gets new closures and feedback: the 17th user of
  // sandbox-cross-user-state.test.ts checks it). Copies are compiled several at a time, which
  // halves the cost per copy.
  // The host decides (fresh-per-user.ts): a task with no function of its own and no
  // regular-expression literal has none of that state and shares one copy.
  const COPIES_PER_COMPILE = 16;

  let compartment;
  let shared;
  let copies = [];

  // The body is checked on its own before it is glued into the array: by the host (it parses as a
  // whole strict script, so it cannot close the function early) and by SES's Function constructor
  // here, so the copies are exactly that function.
  const copySource = `(function (${parameters.join(', ')}) {'use strict';\n${code}${bodySuffix}\n})`;
  const batchSource = `[${new Array(COPIES_PER_COMPILE).fill(copySource).join(',\n')}]`;

  function open() {
    // SES keeps Float32Array and Float64Array off new compartments for the NaN side channel (the
    // bits of a NaN can differ between JIT tiers); the sandbox runs in one tier (--jitless), so
    // they are as deterministic as the other typed arrays and are handed in, hardened.
    compartment = new Compartment({
      __options__: true,
      name: 'task',
      globals: { Float32Array, Float64Array },
    });
    harden(compartment.globalThis);
    shared = compile(code);
    copies = freshPerUser ? [...compartment.evaluate(batchSource)] : [];
  }

  /** A task-shaped function of `body`; SES's Function constructor parses the body on its own. */
  function compile(body) {
    return harden(new compartment.globalThis.Function(...parameters, body + bodySuffix));
  }

  /** SES latches a compartment's evaluator shut if a run interrupts it mid-eval (a stack overflow). */
  function evaluatorWorks() {
    try {
      compartment.evaluate('0');
      return true;
    } catch {
      return false;
    }
  }

  open(); // at set-up, so that code SES rejects is a compile error, not every user's

  return harden({
    /** The compartment's global object, whose tamed Error constructors the driver uses. */
    globals: () => compartment.globalThis,
    compile,
    /**
     * The task function for the next user. `rebuilt` when the evaluator had been broken and the
     * compartment was made anew: the caller warms the new one up before using it.
     */
    next() {
      const rebuilt = !evaluatorWorks();
      if (rebuilt) open();
      if (!freshPerUser) return { task: shared, rebuilt };
      if (copies.length === 0) copies = [...compartment.evaluate(batchSource)];
      return { task: harden(copies.pop()), rebuilt };
    },
  });
});
