// parseJsonText reads JSON as JSON.parse does, and refuses keys given twice and, when asked, prototype keys.
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { JsonTextProblem, parseJsonText, showJsonPath, type JsonTextOptions } from './json-text.ts';
import { uploadKeyName } from './upload-keys.ts';

function problemOf(text: string, options: JsonTextOptions = {}): JsonTextProblem {
  try {
    parseJsonText(text, options);
  } catch (error) {
    if (error instanceof JsonTextProblem) return error;
    throw error;
  }
  throw new Error(`accepted ${text}`);
}

describe('parseJsonText', () => {
  it('gives what JSON.parse gives for any JSON that JSON.stringify writes', () => {
    fc.assert(
      fc.property(fc.jsonValue(), (value) => {
        const text = JSON.stringify(value, null, 1);
        expect(parseJsonText(text)).toEqual(JSON.parse(text));
      }),
    );
  });

  it('keeps keys that only look alike, and quotes and colons inside strings', () => {
    const text = '{"a":1,"A":2,"a ":3,"b":"\\"a\\":","c\\\\":{"a":[{"a":1},{"a":2}]}}';
    expect(parseJsonText(text)).toEqual(JSON.parse(text));
  });

  it.each([
    ['{"u9":{"purchases":[1,2],"purchases":[3]}}', ['u9'], 'purchases', 25],
    ['{"u9":{"p":[]}, "u9":{"p":[]}}', [], 'u9', 16],
    ['{"u9":{"p":[{"a":1},{"a":1,"b":"x\\"y","a":2}]}}', ['u9', 'p', 1], 'a', 38],
    ['{"a\\"b":1,"a\\u0022b":2}', [], 'a"b', 10],
    ['[{"x":[{"k":1},{"k":1,"k":2}]}]', [0, 'x', 1], 'k', 22],
  ])('refuses %s: the key, the object it is in and its position', (text, path, key, position) => {
    const problem = problemOf(text);
    expect(problem.kind).toBe('duplicate');
    expect(problem.path).toEqual(path);
    expect(problem.key).toBe(key);
    expect(problem.position).toBe(position);
    expect(text.slice(position)).toMatch(/^"/);
  });

  it('refuses __proto__ anywhere, and constructor holding prototype, only when asked', () => {
    const forbid = { forbidPrototypeKeys: true };
    for (const [text, path, key] of [
      ['{"__proto__":{"purchases":[]}}', [], '__proto__'],
      ['{"u":{"\\u005f_proto__":[]}}', ['u'], '__proto__'],
      ['{"u":{"t":[{"__proto__":1}]}}', ['u', 't', 0], '__proto__'],
      ['{"u":{"t":[{"constructor":{"prototype":{}}}]}}', ['u', 't', 0], 'constructor'],
    ] as const) {
      const problem = problemOf(text, forbid);
      expect([problem.kind, problem.path, problem.key]).toEqual(['forbidden', path, key]);
      expect(problem.message).toBe(`"${key}" may not be used as a key`);
      expect(parseJsonText(text)).toEqual(JSON.parse(text));
    }
    expect(parseJsonText('{"u":{"constructor":[{"a":1}]}}', forbid)).toEqual({
      u: { constructor: [{ a: 1 }] },
    });
  });

  it.each([
    ['{"a":1,}', 'at position 7'],
    ['{"alice": ', 'the text ends at position 10'],
    ['{"alice": secret}', "unexpected character 's'"],
  ])('names the position of a syntax error in %j, without repeating the text', (text, detail) => {
    const problem = problemOf(text);
    expect(problem.kind).toBe('syntax');
    expect(problem.message).toContain(detail);
    expect(problem.message).not.toContain('alice');
  });
});

describe('names of keys', () => {
  it('names an upload key in the words of the value errors', () => {
    expect(uploadKeyName([], 'u9')).toBe('User "u9"');
    expect(uploadKeyName(['u9'], 'purchases')).toBe('User "u9", table "purchases"');
    expect(uploadKeyName(['u9', 'purchases', 1], 'amount')).toBe(
      'User "u9", table "purchases", row 2, column "amount"',
    );
    expect(uploadKeyName([], 'purchases', true)).toBe('Table "purchases"');
    expect(uploadKeyName(['purchases', 0], 'amount', true)).toBe(
      'Table "purchases", row 1, column "amount"',
    );
    expect(uploadKeyName([0, 'x', 1], 'k')).toBe('The key "k" at [0].x[1]');
  });

  it('shows a path as code would write it', () => {
    expect(showJsonPath([])).toBe('the top level');
    expect(showJsonPath(['columns', 0, 'name'])).toBe('columns[0].name');
    expect(showJsonPath(['a b', 2])).toBe('"a b"[2]');
  });
});
