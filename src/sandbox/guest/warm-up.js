// Inside the isolate: a task the driver runs before the first user, so that every function the runs share has been called once.
// The body of a task function (same parameters); `tables.mode` picks the way the run ends.
// eslint-disable-next-line @typescript-eslint/no-unused-vars -- accumulator is assigned, as tasks do
/* global tables, report_property, lookup, to_date, accumulator:writable, Utils, DateTime, harden, lockdown, Compartment */
// Why: see warmUp() in driver.js. Every shared path a task can reach should be here once,
// error paths included; the outcomes are thrown away.
const attempt = (f) => {
  try {
    return f();
  } catch (error) {
    return error;
  }
};
const mode = tables.mode;
const long = 'x'.repeat(tables.max + 1);
report_property('a', 1);
report_property('a', 1);
report_property('b', true);
for (const label of [undefined, null, '', long, 'a: b']) attempt(() => report_property(label, 1));
attempt(() => report_property('c', long));
attempt(() => lookup(long, 'k'));
attempt(() => lookup('t', long));
for (const f of [to_date, DateTime.date, DateTime.day, DateTime.week, DateTime.hour_range]) {
  for (const t of [0, '86400', 1e20, 'x', undefined]) attempt(() => f(t));
}
for (const [n, q] of [
  [17, 5],
  ['x', 1],
  [1, 0],
])
  attempt(() => Utils.quantize(n, q));
for (const x of [[1], 'ab', { a: 1 }, null]) attempt(() => Utils.length(x));
for (const order of [undefined, 'asc', 'desc', 'x']) {
  attempt(() => Utils.sorted_keys({ b: 1, a: 2 }, order));
  attempt(() => Utils.sorted_pairs({ b: 1, a: 2 }, order));
}
attempt(() => Utils.sorted_keys(1));
attempt(() => Utils.same_arrays([1], [1]));
attempt(() => Utils.same_arrays(1, [1]));
for (const E of [Error, TypeError, RangeError, SyntaxError, ReferenceError, EvalError, URIError]) {
  attempt(() => String(new E('warm-up')));
  attempt(() => String(E('warm-up')));
}
attempt(() => new AggregateError([], 'warm-up'));
attempt(() => null.x);
attempt(() => globalThis.undefinedName());
attempt(() => new Date(0).toISOString());
attempt(() => Date.UTC(1970, 0, 1));
attempt(() => Date.parse('1970-01-01'));
attempt(() => Date.now());
attempt(() => new Date());
attempt(() => Date());
attempt(() => Math.random());
attempt(() => (0, eval)('1 + 1'));
attempt(() => Function('a', 'return a')(1));
attempt(() => new RegExp('a(b)?', 'g').exec('ab'));
attempt(() => 'ab'.replace(/a/g, 'c').split(/b/));
attempt(() => new Compartment().evaluate('1'));
attempt(() => harden({ a: [] }));
attempt(() => lockdown());
attempt(() => Symbol('s').toString());
attempt(() => JSON.parse(JSON.stringify({ a: [1, 'b', null] })));
// The engine's own lazily loaded data (Unicode tables, number formatting), made on first use.
for (const form of ['NFC', 'NFD', 'NFKC', 'NFKD']) attempt(() => 'Ame\u0301lie'.normalize(form));
attempt(() => 'a'.localeCompare('b') + 'straße İ'.toLocaleUpperCase() + 'İ'.toLocaleLowerCase());
attempt(() => 'straße'.toUpperCase() + 'İ'.toLowerCase() + 'ǅ'.toLowerCase());
attempt(() => [
  /\p{L}+/u.test('é'),
  /ſ/iu.test('s'),
  /\p{Script=Greek}/u.test('α'),
  /é/i.test('É'),
]);
attempt(() => (1234.5).toLocaleString() + [1, 2].toLocaleString() + new Date(0).toLocaleString());
attempt(() => String(1234.5678) + (0.1).toFixed(3) + (123.456).toPrecision(4) + (255).toString(16));
attempt(() => parseFloat('1.5e3') + Number('0x1f') + JSON.stringify(1e21) + (1e-7).toExponential());
attempt(() => 'a-b-c'.split('-').join() + 'abc'.replaceAll('b', 'x') + 'x'.padStart(3).trim());
attempt(() => new Float64Array(2).fill(1));
attempt(() => new Float32Array(2).fill(1));
Promise.resolve(1).then(() => attempt(() => report_property('job', 1)));
Promise.reject(new Error('warm-up')).catch(() => 0);
if (mode === 'throw') throw new TypeError('warm-up');
if (mode === 'value') throw 'warm-up';
if (mode === 'accumulator') accumulator = () => 0;
if (mode === 'cycle') {
  const cycle = {};
  cycle.self = cycle;
  accumulator = cycle;
}
if (mode === 'violation') {
  report_property(undefined, 0);
}
if (mode === 'ok') {
  for (let i = 0; i <= tables.properties; i++) attempt(() => report_property('n', i));
  accumulator = { mode, n: [1] };
}
