// No engine state passes from one user's run to the next: a user primes V8 (tiers, lazy compilation, caches, heap) and later users probe it.
import { describe, expect, it } from 'vitest';
import { runUsers, TEST_LIMITS } from './test-support.ts';
import type { UserInput } from './types.ts';

/**
 * Each case is one task. A user whose row says "prime" does something data-dependent to the
 * engine (the victim: it reports nothing); a user whose row says "probe" measures the engine and
 * reports what it saw. The runs after a primed user must report exactly what they report after
 * an idle one, or a task could read the victim's data off other, known users' properties.
 *
 * The probes read stack depth to the frame: how deep a recursion gets before the stack
 * overflows, or the deepest point at which something (a call, a compilation) still succeeds.
 * Frame sizes differ between V8's tiers, and compiling at the bottom of a deep stack needs more
 * stack than running code already compiled, so both show as a different depth.
 */
interface Case {
  /** Definitions both roles share (they live in the task, so every run creates them anew). */
  shared: string;
  prime: string;
  probe: string;
  /** The program's time limit, when the prime is meant to break it. */
  timeoutMs?: number;
}

const DEPTH = `
  let depth = 0;
  function dive() { depth++; dive(); }`;

/**
 * margin(f): how many frames short of a full stack f() first succeeds, scanning up from no margin,
 * so the first success (which compiles f, if anything does) is the one measured.
 */
const MARGIN = `
  /** Calls atBottom() under n frames of a small recursion; false if the stack overflowed. */
  function under(n, atBottom) {
    const down = (k) => (k === 0 ? atBottom() : down(k - 1));
    try { down(n); return true; } catch { return false; }
  }
  function margin(atBottom) {
    let low = 0, high = 1;
    while (under(high, () => 0)) { low = high; high *= 2; }
    while (high - low > 1) { const mid = (low + high) >>> 1; if (under(mid, () => 0)) low = mid; else high = mid; }
    for (let k = 0; k <= low; k++) if (under(low - k, atBottom)) return k;
    return -1;
  }`;

const CASES: Record<string, Case> = {
  'JIT tier of a shared stdlib function (recursion depth through it)': {
    shared: `
      let depth = 0;
      const o = { get a() { depth++; return Utils.sorted_pairs(o); } };`,
    prime: `const p = { a: 1, b: 2 }; for (let i = 0; i < 100000; i++) Utils.sorted_pairs(p);`,
    probe: `depth = 0; try { Utils.sorted_pairs(o); } catch {} report_property("depth", depth);`,
  },
  "JIT tier of the task's own functions (recursion depth)": {
    shared: `
      let depth = 0;
      function dive(n) { depth++; if (n === 0) return 0; return 1 + dive(n - 1); }`,
    prime: `for (let i = 0; i < 3000; i++) dive(100);`,
    probe: `depth = 0; try { dive(-1); } catch {} report_property("depth", depth);`,
  },
  'lazy compilation of a shared stdlib function (the stack a call at the bottom needs)': {
    shared: MARGIN,
    prime: `DateTime.hour_range(0);`,
    probe: `report_property("margin", margin(() => DateTime.hour_range(0)));`,
  },
  "lazy compilation of the task's own function (the stack a call at the bottom needs)": {
    shared: `${MARGIN}
      function helper(x) { const parts = String(x).split(""); return parts.map((c) => c + c).join("-"); }`,
    prime: `helper(1);`,
    probe: `report_property("margin", margin(() => helper(2)));`,
  },
  'a compiled regular expression (the stack a match at the bottom needs)': {
    shared: `${MARGIN}
      const match = (s) => /^(?:a|b(?:c|d)+)*e[fg]{2,}$/.test(s);`,
    prime: `match("abcde" + "f".repeat(10));`,
    probe: `report_property("margin", margin(() => match("abdeff")));`,
  },
  'a RegExp built from a string (compilation cache)': {
    shared: `${MARGIN}
      const source = "^(?:x|y(?:z|w)+)*q[rs]{3,}$";`,
    prime: `new RegExp(source).test("yzqrrr");`,
    probe: `report_property("margin", margin(() => new RegExp(source).test("xqrss")));`,
  },
  'a Function built from a string (compilation cache)': {
    shared: `${MARGIN}
      const body = "return [a, b].map((x) => x * 2).join(':');";`,
    prime: `Function("a", "b", body)(1, 2);`,
    probe: `report_property("margin", margin(() => Function("a", "b", body)(3, 4)));`,
  },
  'code built by eval (compilation cache)': {
    shared: `${MARGIN}
      const source = "(function helper(x) { return [x].map((y) => y + 1).join(); })";`,
    prime: `(0, eval)(source)(1);`,
    probe: `report_property("margin", margin(() => (0, eval)(source)(2)));`,
  },
  'the number-to-string cache (the stack a conversion at the bottom needs)': {
    shared: MARGIN,
    prime: `for (let i = 0; i < 1000; i++) String(1234.5678 + i);`,
    probe: `report_property("margin", margin(() => String(1234.5678 + 7)));`,
  },
  'lazily loaded Unicode data (the stack a normalization at the bottom needs)': {
    shared: MARGIN,
    prime: `"Ame\u0301lie".normalize("NFC"); "straße".toLocaleUpperCase(); "a".localeCompare("b");`,
    probe: `report_property("margin", margin(() => "Ame\u0301lie".normalize("NFD") + "i".localeCompare("j")));`,
  },
  'a heavy run, after which the isolate is replaced (recursion depth)': {
    shared: DEPTH,
    prime: `const rows = []; for (let i = 0; i < 400000; i++) rows.push({ i, text: "row " + i });`,
    probe: `try { dive(); } catch {} report_property("depth", depth);`,
  },
  'a run that timed out, after which the isolate is replaced (recursion depth)': {
    shared: DEPTH,
    prime: `for (;;) {}`,
    probe: `try { dive(); } catch {} report_property("depth", depth);`,
    timeoutMs: 1000,
  },
};

function taskFor({ shared, prime, probe }: Case): string {
  return `${shared}
    const role = tables.t[0].role;
    if (role === "prime") { ${prime} }
    if (role === "probe") { ${probe} }`;
}

const user = (role: string): UserInput => ({ tables: { t: [{ role }] } });

/**
 * What the users after `first` report: the next one, then (after 14 idle users) the 17th and
 * 18th. The sandbox compiles task copies 16 at a time (guest/task-functions.js), so the 17th
 * user's copy comes from the second compilation of the same source, in the first user's slot:
 * a compilation cache would hand it the first user's function.
 */
async function probesAfter(
  code: string,
  first: 'prime' | 'idle',
  timeoutMs = 10_000,
): Promise<unknown[]> {
  const idle = Array.from({ length: 14 }, () => user('idle'));
  const users = [user(first), user('probe'), ...idle, user('probe'), user('probe')];
  return (await runUsers(code, users, { ...TEST_LIMITS, timeoutMs })).slice(1);
}

describe('sandbox cross-user engine state', () => {
  it.each(Object.entries(CASES))(
    'a user cannot learn whether an earlier one primed %s',
    async (_name, testCase) => {
      const code = taskFor(testCase);
      const afterIdle = await probesAfter(code, 'idle', testCase.timeoutMs);
      const afterPrime = await probesAfter(code, 'prime', testCase.timeoutMs);
      expect(afterIdle[0]).toMatchObject({ ok: true });
      expect(afterPrime).toEqual(afterIdle);
    },
  );
});
