// What /readyz answers: named checks (stores, sandbox), each with a time limit and a cache, and the draining flag.
import type { OpsLog } from '../shared/index.ts';
import type { Readiness } from '../http/index.ts';

export interface ReadinessCheck {
  /** Said in the 503's reason: a fixed phrase such as "the cloak store", never a path or a secret. */
  name: string;
  /** Resolves when the part answers; throws or rejects when it does not. */
  check(): void | Promise<void>;
  /**
   * How long a success stands before the check runs again: a check that starts a process (the
   * sandbox) must not run on every probe. Failures are never cached. Default 0.
   */
  cacheMs?: number;
  /** How long the check may take before it counts as failed; default CHECK_TIMEOUT_MS. */
  timeoutMs?: number;
}

/** A check that takes longer than this fails, unless it sets its own `timeoutMs`. */
const CHECK_TIMEOUT_MS = 5000;

/**
 * Ready means: not draining, and every check answers. A failing check's detail goes to the log
 * only; the answer names the part ("the cloak store does not answer"), which tells an
 * unauthenticated caller nothing about the data.
 */
export class ReadinessChecks {
  #draining = false;
  readonly #passedAt = new Map<string, number>();
  /** Checks under way, which probes arriving meanwhile share. */
  readonly #running = new Map<string, Promise<void>>();

  constructor(
    private readonly checks: readonly ReadinessCheck[],
    private readonly log: OpsLog,
    private readonly now: () => number = Date.now,
  ) {}

  /** From now on /readyz answers 503: load balancers stop sending work here. */
  drain(): void {
    this.#draining = true;
  }

  get draining(): boolean {
    return this.#draining;
  }

  async probe(): Promise<Readiness> {
    if (this.#draining) return { ready: false, reason: 'it is shutting down (draining its runs)' };
    for (const check of this.checks) {
      const passed = this.#passedAt.get(check.name);
      if (passed !== undefined && this.now() - passed < (check.cacheMs ?? 0)) continue;
      try {
        await this.#run(check);
        this.#passedAt.set(check.name, this.now());
      } catch (error) {
        this.#passedAt.delete(check.name);
        this.log.warn({ check: check.name, err: error }, 'readiness check failed');
        return { ready: false, reason: `${check.name} does not answer` };
      }
    }
    return { ready: true };
  }

  /**
   * Anyone may call /readyz, without a key: a flood of probes must not start a sandbox process
   * each, so probes that arrive while a check runs wait for that one.
   */
  #run(check: ReadinessCheck): Promise<void> {
    let running = this.#running.get(check.name);
    if (!running) {
      running = withTimeout(
        Promise.resolve().then(() => check.check()),
        check.timeoutMs ?? CHECK_TIMEOUT_MS,
      ).finally(() => this.#running.delete(check.name));
      this.#running.set(check.name, running);
    }
    return running;
  }
}

function withTimeout(work: Promise<void>, ms: number): Promise<void> {
  let timer: NodeJS.Timeout | undefined;
  const late = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new Error(`no answer within ${ms} ms`)), ms);
  });
  return Promise.race([work, late]).finally(() => clearTimeout(timer));
}
