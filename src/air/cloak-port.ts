// The only way the air reaches the cloak: validate a task, run it, get back an anonymized result.
import type { AnonymizedResult, RunControl, TaskSpec } from '../shared/index.ts';

/**
 * The air holds no handle on raw rows: everything it gets from the cloak passes through this
 * interface, whose results are already anonymized. The embedded default implements it in-process;
 * a remote cloak would implement it over the cloak API with a task-runner key.
 */
export interface CloakPort {
  /** Throws an AppError naming the problem (unknown table or column, bad filter, syntax error). */
  validateTask(orgId: string, spec: TaskSpec): TaskSpec;
  /** `control` reports progress and can cancel; a cancelled run throws and publishes nothing. */
  runTask(orgId: string, spec: TaskSpec, control?: RunControl): Promise<AnonymizedResult>;
}
