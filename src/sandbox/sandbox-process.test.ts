// The sandbox process's safety nets: the watchdog that ends a hung run, and reading why a process died.
import { spawnSync } from 'node:child_process';
import { describe, expect, it } from 'vitest';
import { crashCause } from './sandbox-process.ts';
import { WATCHDOG_MARKER } from './wire.mjs';

const WATCHDOG = new URL('./child/watchdog.mjs', import.meta.url).href;

/** Runs a script in a fresh Node process that starts the watchdog with `budgetMs`. */
function underWatchdog(budgetMs: number, body: string) {
  const script = `import(${JSON.stringify(WATCHDOG)}).then(async ({ startWatchdog }) => {
    const run = await startWatchdog(${budgetMs});
    ${body}
    process.stdout.write('survived');
  });`;
  return spawnSync(process.execPath, ['--input-type=module', '-e', script], {
    encoding: 'utf8',
    timeout: 60_000,
  });
}

/** A run that would go on this long (wall-clock) if nothing stopped it. */
const LOOP_MS = 10_000;

function timed<T>(action: () => T): { result: T; ms: number } {
  const started = Date.now();
  const result = action();
  return { result, ms: Date.now() - started };
}

describe('watchdog', () => {
  it('kills the process when a run stays on past its budget, leaving its marker', () => {
    // The same process without the run, for a baseline: starting Node takes seconds on a busy
    // machine, so the kill is timed against it, not against a fixed bound.
    const baseline = timed(() => underWatchdog(300, ''));
    expect(baseline.result.stdout).toBe('survived');
    const killed = timed(() =>
      underWatchdog(
        300,
        `run.runStarted(); const end = Date.now() + ${LOOP_MS}; while (Date.now() < end) {}`,
      ),
    );
    expect(killed.result.signal).toBe('SIGKILL');
    expect(killed.result.stdout).toBe('');
    expect(killed.result.stderr).toContain(WATCHDOG_MARKER);
    // Before the loop would have ended by itself (it counts wall-clock time, whatever the load).
    expect(killed.ms - baseline.ms).toBeLessThan(LOOP_MS);
  });

  it('leaves runs that end within budget alone, however many', () => {
    const result = underWatchdog(
      300,
      `for (let i = 0; i < 100000; i++) { run.runStarted(); run.runEnded(); }
       const end = Date.now() + 800; while (Date.now() < end) {}`,
    );
    expect(result.signal).toBeNull();
    expect(result.stdout).toBe('survived');
  });
});

describe('crash causes', () => {
  it('reads a watchdog kill as a timeout and a V8 heap abort as memory', () => {
    expect(crashCause(`${WATCHDOG_MARKER}\n`)).toBe('timeout');
    expect(crashCause('<--- JS stacktrace --->\n\nCALL_AND_RETRY_LAST\nis_heap_oom = 1\n')).toBe(
      'memory',
    );
    expect(
      crashCause(
        'FATAL ERROR: Reached heap limit Allocation failed - JavaScript heap out of memory',
      ),
    ).toBe('memory');
    expect(crashCause('Segmentation fault')).toBe('unknown');
    expect(crashCause('')).toBe('unknown');
  });
});
