// The scan that lets a task share one compiled copy across users: it must never miss a function or a regular expression.
import { describe, expect, it } from 'vitest';
import { needsFreshFunctionPerUser } from './fresh-per-user.ts';

describe('needsFreshFunctionPerUser', () => {
  it.each([
    ['an arrow function', 'const f = () => 1;'],
    ['an async arrow', 'x = [1].map(async r => r);'],
    ['a function declaration', 'function g() {}'],
    ['a function expression as an argument', 'x = t.map(function (r) { return r; });'],
    ['a method', 'const o = { a() { return 1 } };'],
    ['a getter', 'const o = { get a() { return 1 } };'],
    ['a computed method', 'const o = { [k]() {} };'],
    ['a generator method', 'const o = { async *g() {} };'],
    ['a class', 'class A {}'],
    ['a regular expression', 'const r = /a/;'],
    ['a regular expression after a keyword', 'const x = typeof /re/;'],
    ['a regular expression after `)`', 'if (x) /re/.test(s);'],
    ['a regular expression after a block', 'label: { }\n/re/.test(s);'],
    ['a regular expression in a template', 'x = `a${b}c${ /r/ }`;'],
    ['a function in a nested template', 'x = `${ `${ () => 1 }` }`;'],
    ['a method in a template', 'x = `${ {a(){}} }`;'],
    ['a method with a comment before its body', 'x = { a(c) /* */ {} };'],
    ['an escaped keyword', 'x = \\u0066unction(){};'],
    ['an unterminated comment', 'x = 1; /* '],
  ])('says fresh for %s', (_name, code) => {
    expect(needsFreshFunctionPerUser(code)).toBe(true);
  });

  it.each([
    [
      'the benchmark task',
      `const profile = tables.profile[0];
       let total = 0;
       for (const p of tables.purchases) total += p.amount;
       if (tables.purchases.length > 0) report_property("average", Utils.quantize(total / tables.purchases.length, 25));`,
    ],
    [
      'divisions, strings, templates and comments that look like code',
      `for (const r of tables.t) { if (r.a > 1) { report_property("x", \`a\${r.a / 2}b\`); } else report_property('y', "() => /r/"); } // c => d
       /* function () {} */ accumulator = { n: [1, 2][0] / 3 };`,
    ],
    ['a division on the next line (not a regular expression)', 'a = b\n/re/g.exec(s);'],
    ['a function built from a string (compiled anew on every call)', 'Function("return 1")();'],
  ])('shares one copy for %s', (_name, code) => {
    expect(needsFreshFunctionPerUser(code)).toBe(false);
  });
});
