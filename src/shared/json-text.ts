// JSON text parsed like JSON.parse, refusing what JSON.parse lets pass silently: a key twice in an object.
//
// JSON.parse keeps the last of two equal keys, so `{"u9":{"t":[p,q],"t":[r]}}` loses p and q without
// a word. Finding that in the text costs a second pass, kept cheap for large uploads: the parsed
// value's keys are counted, and the text's keys (strings followed by a colon) are counted by
// jumping from quote to quote; only when the counts differ, which needs a duplicate, is the text
// tokenized again to name the key and where it is. Prototype keys (`__proto__`, and `constructor`
// holding `prototype`) are found in the same walk over the value and refused when asked, as
// fastify's parser did (secure-json-parse), but with the key named.

/** Keys and list positions from the top of a JSON value down to one object. */
export type JsonPath = ReadonlyArray<string | number>;

export type JsonProblemKind = 'syntax' | 'duplicate' | 'forbidden';

/** Why a text was refused; `message` never repeats more of the text than the key concerned. */
export class JsonTextProblem extends Error {
  constructor(
    readonly kind: JsonProblemKind,
    message: string,
    /** The object holding `key` (duplicate, forbidden). */
    readonly path: JsonPath = [],
    readonly key = '',
    /** Offset in the text (UTF-16 units), when known. */
    readonly position?: number,
  ) {
    super(message);
  }
}

export interface JsonTextOptions {
  /** Refuse `__proto__` as a key anywhere, and `constructor` whose value holds `prototype`. */
  forbidPrototypeKeys?: boolean;
}

const PROTO = '__proto__';

export function parseJsonText(text: string, options: JsonTextOptions = {}): unknown {
  let value: unknown;
  try {
    value = JSON.parse(text);
  } catch (error) {
    throw new JsonTextProblem('syntax', syntaxDetail((error as Error).message, text.length));
  }
  if (typeof value !== 'object' || value === null) return value;
  const walk = { keys: 0, forbidden: undefined as JsonTextProblem | undefined };
  countKeys(value, [], walk, options.forbidPrototypeKeys === true);
  if (walk.keys !== countTextKeys(text)) {
    const duplicate = findDuplicate(text);
    if (duplicate) throw duplicate;
  }
  if (walk.forbidden) throw walk.forbidden;
  return value;
}

/**
 * V8's message with its position, never with the excerpt of the text it quotes for an unexpected
 * token (a server must not repeat the request in its answer).
 */
function syntaxDetail(message: string, length: number): string {
  if (message.startsWith('Unexpected end of JSON input')) {
    return `the text ends at position ${length} before the JSON value is complete`;
  }
  const token = /^Unexpected token '(.{1,4})', /su.exec(message);
  if (token) return `unexpected character '${token[1]}'`;
  return message.replace(' in JSON at ', ' at ');
}

interface Walk {
  keys: number;
  forbidden: JsonTextProblem | undefined;
}

function countKeys(value: object, path: Array<string | number>, walk: Walk, forbid: boolean): void {
  if (Array.isArray(value)) {
    for (let i = 0; i < value.length; i++) {
      const item: unknown = value[i];
      if (typeof item === 'object' && item !== null) {
        path.push(i);
        countKeys(item, path, walk, forbid);
        path.pop();
      }
    }
    return;
  }
  const record = value as Record<string, unknown>;
  // for-in, not Object.keys: no array per object. JSON.parse's objects inherit nothing enumerable.
  for (const key in record) {
    walk.keys++;
    const item = record[key];
    if (forbid && walk.forbidden === undefined && isPrototypeKey(key, item)) {
      walk.forbidden = new JsonTextProblem(
        'forbidden',
        `${JSON.stringify(key)} may not be used as a key`,
        [...path],
        key,
      );
    }
    if (typeof item === 'object' && item !== null) {
      path.push(key);
      countKeys(item, path, walk, forbid);
      path.pop();
    }
  }
}

function isPrototypeKey(key: string, value: unknown): boolean {
  if (key === PROTO) return true;
  return (
    key === 'constructor' &&
    typeof value === 'object' &&
    value !== null &&
    Object.prototype.hasOwnProperty.call(value, 'prototype')
  );
}

const BACKSLASH = 92;
const COLON = 58;

/** The index of the quote closing the string opened at `open` (the text is valid JSON). */
function stringEnd(text: string, open: number): number {
  let end = text.indexOf('"', open + 1);
  for (;;) {
    let backslashes = 0;
    while (text.charCodeAt(end - 1 - backslashes) === BACKSLASH) backslashes++;
    if (backslashes % 2 === 0) return end;
    end = text.indexOf('"', end + 1);
  }
}

/** The first index from `from` on that is not JSON whitespace. */
function skipSpace(text: string, from: number): number {
  let at = from;
  for (;;) {
    const c = text.charCodeAt(at);
    if (c !== 32 && c !== 10 && c !== 13 && c !== 9) return at;
    at++;
  }
}

/** Keys in valid JSON text: the strings followed by a colon. */
function countTextKeys(text: string): number {
  let keys = 0;
  let open = text.indexOf('"');
  while (open !== -1) {
    const after = skipSpace(text, stringEnd(text, open) + 1);
    if (text.charCodeAt(after) === COLON) keys++;
    open = text.indexOf('"', after);
  }
  return keys;
}

interface Frame {
  /** Keys seen so far; undefined for a list. */
  keys: Set<string> | undefined;
  /** The last key seen (object) or the current index (list). */
  at: string | number;
}

/** The first key that occurs twice in one object of valid JSON text, with its place. */
function findDuplicate(text: string): JsonTextProblem | undefined {
  const frames: Frame[] = [];
  for (let i = 0; i < text.length; i++) {
    const c = text[i];
    const top = frames[frames.length - 1];
    if (c === '"') {
      const end = stringEnd(text, i);
      const after = skipSpace(text, end + 1);
      if (top?.keys && text.charCodeAt(after) === COLON) {
        const key = JSON.parse(text.slice(i, end + 1)) as string;
        if (top.keys.has(key)) {
          const path = frames.slice(0, -1).map((f) => f.at);
          const message = `${JSON.stringify(key)} occurs twice`;
          return new JsonTextProblem('duplicate', message, path, key, i);
        }
        top.keys.add(key);
        top.at = key;
      }
      i = end;
    } else if (c === '{') frames.push({ keys: new Set(), at: '' });
    else if (c === '[') frames.push({ keys: undefined, at: 0 });
    else if (c === '}' || c === ']') frames.pop();
    else if (c === ',' && top && top.keys === undefined) (top.at as number)++;
  }
  return undefined;
}

/** A path as it reads in an error message: `columns[0].name`, or `the top level`. */
export function showJsonPath(path: JsonPath): string {
  if (path.length === 0) return 'the top level';
  return path
    .map((part, i) =>
      typeof part === 'number'
        ? `[${part}]`
        : `${i === 0 ? '' : '.'}${/^[A-Za-z_$][\w$]*$/.test(part) ? part : JSON.stringify(part)}`,
    )
    .join('');
}
