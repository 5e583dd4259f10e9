// What task runs tell the operator's side (metrics, logs) as they go: counts and outcomes, never a user's data.

/** How a run ended, as metrics and logs name it. */
export type RunOutcome = 'completed' | 'failed' | 'cancelled' | 'timeout' | 'shutdown';

/** A publishing run, or a cost preview that runs the same work and publishes nothing. */
export type RunKind = 'run' | 'preview';

/**
 * Told by the cloak's task runner. Each hook is optional and must not throw: a watcher's failure
 * must never fail a run. Nothing here carries an organisation or a user, so that a dashboard
 * cannot tie a figure to an analyst's runs (docs/operations.md, "Metrics").
 */
export interface RunEvents {
  started?(run: { runId: string; kind: RunKind }): void;
  finished?(run: { runId: string; kind: RunKind; outcome: RunOutcome }): void;
  /** Users that went through the sandbox (or a sql task's groups) since the last call. */
  usersProcessed?(count: number): void;
  /** The participation budget a run's settlement charged, summed over its users. */
  budgetCharged?(rho: number): void;
  /** A run's work has ended and its answer waits for its release point (+1), or has left (-1). */
  awaitingRelease?(change: 1 | -1): void;
}

/** The part of a pino logger that code outside the servers logs through. */
export interface OpsLog {
  info(details: object, message: string): void;
  warn(details: object, message: string): void;
  error(details: object, message: string): void;
  child(bindings: Record<string, unknown>): OpsLog;
}

/** A log that writes nothing: where no logger was given (tests, CLI commands). */
export const SILENT_LOG: OpsLog = {
  info: () => undefined,
  warn: () => undefined,
  error: () => undefined,
  child: () => SILENT_LOG,
};
