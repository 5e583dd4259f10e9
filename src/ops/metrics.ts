// The platform's Prometheus metrics (prom-client): runs, users, budget spend, waiting runs, HTTP latency, the process.
import { collectDefaultMetrics, Counter, Gauge, Histogram, Registry } from 'prom-client';
import type { AnsweredRequest } from '../http/index.ts';
import type { RunEvents, RunKind, RunOutcome } from '../shared/index.ts';

/** Every metric name starts so; docs/operations.md lists them all (a test checks the list). */
export const METRIC_PREFIX = 'opencloak_';

/** Request durations, seconds: from a cached results page (~2 ms) to a synchronous run (minutes). */
const HTTP_BUCKETS = [
  0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 120,
];

/**
 * One registry per platform, not prom-client's global one, so that two platforms in one process
 * (tests) count apart. No label carries an organisation, a person, a task or a raw URL: labels
 * are fixed words (kind, outcome, api, method, route pattern, status), so that the series stay
 * few and a dashboard shared beyond the operator cannot tie a figure to one analyst's runs.
 */
export class PlatformMetrics {
  readonly registry = new Registry();
  readonly #runsStarted: Counter<'kind'>;
  readonly #runsFinished: Counter<'kind' | 'outcome'>;
  readonly #runsInProgress: Gauge<'kind'>;
  readonly #users: Counter;
  readonly #budget: Counter;
  readonly #waiting: Gauge<'waiting_for'>;
  readonly #http: Histogram<'api' | 'method' | 'route' | 'status'>;

  /**
   * `processMetrics`: prom-client's default process metrics too. They start observers (GC, event
   * loop delay) that live as long as the process, so only a platform that serves its metrics
   * asks for them, not every platform a test suite starts.
   */
  constructor(options: { processMetrics: boolean } = { processMetrics: true }) {
    const registers = [this.registry];
    if (options.processMetrics) {
      collectDefaultMetrics({ register: this.registry, prefix: METRIC_PREFIX });
    }
    this.#runsStarted = new Counter({
      name: `${METRIC_PREFIX}runs_started_total`,
      help: 'Task runs started, by kind (run publishes; preview is a cost preview that does not).',
      labelNames: ['kind'],
      registers,
    });
    this.#runsFinished = new Counter({
      name: `${METRIC_PREFIX}runs_finished_total`,
      help: 'Task runs ended, by kind and outcome (completed, failed, cancelled, timeout, shutdown).',
      labelNames: ['kind', 'outcome'],
      registers,
    });
    this.#runsInProgress = new Gauge({
      name: `${METRIC_PREFIX}runs_in_progress`,
      help: 'Task runs in progress in this process, by kind.',
      labelNames: ['kind'],
      registers,
    });
    this.#users = new Counter({
      name: `${METRIC_PREFIX}users_processed_total`,
      help: 'Users whose rows went through a task (sandbox or sql groups); rate() gives users per second.',
      registers,
    });
    this.#budget = new Counter({
      name: `${METRIC_PREFIX}budget_rho_charged_total`,
      help: 'Participation budget (rho) charged by runs, summed over all users and organisations of the installation.',
      registers,
    });
    this.#waiting = new Gauge({
      name: `${METRIC_PREFIX}runs_waiting`,
      help: 'Runs waiting: for their release point once their work is done (release); server mode adds the job queue.',
      labelNames: ['waiting_for'],
      registers,
    });
    this.#http = new Histogram({
      name: `${METRIC_PREFIX}http_request_duration_seconds`,
      help: 'HTTP answers by API, method, route pattern (never the raw URL) and status.',
      labelNames: ['api', 'method', 'route', 'status'],
      buckets: HTTP_BUCKETS,
      registers,
    });
    // Present from the first scrape, so that rate() and alerts see a zero and not a gap.
    this.#waiting.set({ waiting_for: 'release' }, 0);
    for (const kind of ['run', 'preview'] as const) {
      this.#runsStarted.inc({ kind }, 0);
      this.#runsInProgress.set({ kind }, 0);
    }
  }

  /** What the cloak's task runner tells the metrics. */
  get runEvents(): RunEvents {
    return {
      started: ({ kind }) => {
        this.#runsStarted.inc({ kind });
        this.#runsInProgress.inc({ kind });
      },
      finished: ({ kind, outcome }) => this.#finished(kind, outcome),
      usersProcessed: (count) => this.#users.inc(count),
      budgetCharged: (rho) => {
        if (rho > 0) this.#budget.inc(rho);
      },
      awaitingRelease: (change) => this.#waiting.inc({ waiting_for: 'release' }, change),
    };
  }

  /** The request observer of one API's server (`web` or `cloak`). */
  answeredOn(api: string): (answered: AnsweredRequest) => void {
    return ({ method, route, status, seconds }) =>
      this.#http.observe({ api, method, route, status: String(status) }, seconds);
  }

  /** The text exposition format, as Prometheus scrapes it. */
  async text(): Promise<string> {
    return this.registry.metrics();
  }

  get contentType(): string {
    return this.registry.contentType;
  }

  #finished(kind: RunKind, outcome: RunOutcome): void {
    this.#runsFinished.inc({ kind, outcome });
    this.#runsInProgress.dec({ kind });
  }
}
