// Whether task code must be compiled anew for each user: a conservative scan for functions and regular-expression literals.
//
// Why it matters: V8 keeps state per compiled function site, shared by every closure made from
// it: whether a nested function has been called before (its first call needs 40 KiB of free
// stack), its feedback, a regular-expression literal's compiled matcher. A later user can read
// that off a stack depth (sandbox-cross-user-state.test.ts). The sandbox therefore gives each user
// a fresh copy of the task function (guest/driver.js), which costs a compilation per user.
//
// A task with no function of its own and no regular-expression literal has none of that state:
// its one function is first called at the same shallow depth by every user, so one compiled copy
// can serve them all. Anything this scan is unsure of counts as "fresh per user".

const FUNCTION_KEYWORDS = new Set(['function', 'class']);

/** Keywords after which a `/` starts a regular expression, not a division. */
const EXPRESSION_KEYWORDS = new Set(
  'return typeof instanceof in of new delete void throw case do else yield await extends'.split(
    ' ',
  ),
);

/** Keywords whose `(...)` may be followed by a block without that being a method. */
const BLOCK_KEYWORDS = new Set(['if', 'for', 'while', 'switch', 'catch', 'with']);

const IDENTIFIER = /[A-Za-z0-9_$]/;
const PUNCTUATION = /[{}()[\];,.<>+\-*%&|^!~?:=@#]/;

/** True unless the code surely declares no function (of any kind) and no regular-expression literal. */
export function needsFreshFunctionPerUser(code: string): boolean {
  // The kind of the previous significant token decides what a `/` means.
  let previous: 'start' | 'word' | 'keyword' | 'value' | 'close' | 'punct' = 'start';
  let previousWord = '';
  // For each open `(`: the word before it; for each `{`: whether it opens a template's `${`.
  const parens: string[] = [];
  const braces: boolean[] = [];
  let i = 0;
  const n = code.length;
  while (i < n) {
    const c = code[i]!;
    const next = code[i + 1];
    if (c === ' ' || c === '\t' || c === '\n' || c === '\r') {
      i++;
    } else if (c === '/' && next === '/') {
      const end = code.indexOf('\n', i);
      i = end < 0 ? n : end;
    } else if (c === '/' && next === '*') {
      const end = code.indexOf('*/', i + 2);
      if (end < 0) return true;
      i = end + 2;
    } else if (c === '/') {
      // After a value, a name or a closing bracket this is a division; after `)` or `}` it can be
      // either (`if (x) /re/.test(s)`), so that is "unsure". Anywhere else, a regular expression.
      if (previous === 'close') return true;
      if (previous !== 'word' && previous !== 'value') return true;
      i++;
      previous = 'punct';
    } else if (c === "'" || c === '"') {
      i = skipString(code, i, c);
      if (i < 0) return true;
      previous = 'value';
    } else if (c === '`') {
      const end = skipTemplateChunk(code, i + 1);
      if (end < 0) return true;
      i = end;
      previous = openTemplateExpression(code, i, braces);
    } else if (IDENTIFIER.test(c)) {
      let end = i + 1;
      while (end < n && IDENTIFIER.test(code[end]!)) end++;
      const word = code.slice(i, end);
      if (FUNCTION_KEYWORDS.has(word)) return true;
      previous = EXPRESSION_KEYWORDS.has(word) || BLOCK_KEYWORDS.has(word) ? 'keyword' : 'word';
      previousWord = word;
      i = end;
    } else if (c === '=' && next === '>') {
      return true;
    } else if (c === '(') {
      parens.push(previous === 'word' || previous === 'keyword' ? previousWord : '');
      previous = 'punct';
      i++;
    } else if (c === ')') {
      const opener = parens.pop();
      if (opener === undefined) return true;
      // `name(...) {` is a method (or a call followed by a block: unsure either way).
      const after = nextSignificant(code, i + 1);
      if ((after === '{' || after === 'comment') && !BLOCK_KEYWORDS.has(opener)) return true;
      previous = 'close';
      i++;
    } else if (c === '{') {
      braces.push(false);
      previous = 'punct';
      i++;
    } else if (c === '}') {
      const template = braces.pop();
      if (template === undefined) return true;
      if (template) {
        const end = skipTemplateChunk(code, i + 1);
        if (end < 0) return true;
        i = end;
        previous = openTemplateExpression(code, i, braces);
      } else {
        previous = 'close';
        i++;
      }
    } else if (c === ']') {
      previous = 'value';
      i++;
    } else if (PUNCTUATION.test(c)) {
      previous = 'punct';
      i++;
    } else {
      return true; // anything unexpected (non-ASCII names, a stray backslash): unsure
    }
  }
  return parens.length > 0 || braces.length > 0;
}

/** Index after the closing quote, or -1. */
function skipString(code: string, start: number, quote: string): number {
  for (let i = start + 1; i < code.length; i++) {
    const c = code[i];
    if (c === '\\') i++;
    else if (c === quote) return i + 1;
    else if (c === '\n') return -1;
  }
  return -1;
}

/** Index after the template chunk's end: after the closing backquote or after `${`; or -1. */
function skipTemplateChunk(code: string, start: number): number {
  for (let i = start; i < code.length; i++) {
    const c = code[i];
    if (c === '\\') i++;
    else if (c === '`') return i + 1;
    else if (c === '$' && code[i + 1] === '{') return i + 2;
  }
  return -1;
}

/** After a template chunk: inside `${` an expression starts (a `/` there is a regular expression). */
function openTemplateExpression(code: string, end: number, braces: boolean[]): 'punct' | 'value' {
  if (code[end - 1] !== '{') return 'value';
  braces.push(true);
  return 'punct';
}

function nextSignificant(code: string, start: number): string | undefined {
  for (let i = start; i < code.length; i++) {
    const c = code[i]!;
    if (c === ' ' || c === '\t' || c === '\n' || c === '\r') continue;
    if (c === '/' && (code[i + 1] === '/' || code[i + 1] === '*')) return 'comment'; // unsure
    return c;
  }
  return undefined;
}
