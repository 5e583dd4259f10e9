// How task code becomes a function: the parameters it sees and the tail that hands back the accumulator.

/**
 * The task code is the body of one function compiled once per task; every user's run is one
 * call with fresh arguments. These names are the task's "globals" (SPEC, "The task language").
 */
export const TASK_PARAMETERS = Object.freeze([
  'tables',
  'report_property',
  'lookup',
  'to_date',
  'accumulator',
  'Utils',
  'DateTime',
] as const);

/**
 * Appended to the body so the call returns what the code left in `accumulator`. It starts on a
 * new line so a trailing line comment in the task cannot swallow it; top-level `return` is
 * rejected at compile time so the code cannot skip it.
 */
export const TASK_BODY_SUFFIX = '\n;return accumulator;';

/** The function source V8 parses for the compile check, with the task's first line on line 2. */
export function taskFunctionSource(code: string): string {
  return `(function task(${TASK_PARAMETERS.join(', ')}) {'use strict';\n${code}${TASK_BODY_SUFFIX}\n})`;
}
