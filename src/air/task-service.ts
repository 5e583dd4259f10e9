// Creating and running tasks on the air side: validation via the cloak, results stored as published.
import { AppError } from '../errors/index.ts';
import type { CloakPort } from './cloak-port.ts';
import {
  TASK_TYPES,
  type AirStore,
  type NewTask,
  type StoredResult,
  type TaskRecord,
} from './store/index.ts';

export class TaskService {
  constructor(
    private readonly store: AirStore,
    private readonly cloak: CloakPort,
  ) {}

  create(orgId: string, task: NewTask): TaskRecord {
    checkType(task.type);
    const checked = this.cloak.validateTask(orgId, { code: task.code, prefetch: task.prefetch });
    return this.store.tasks.create(orgId, { ...task, prefetch: checked.prefetch });
  }

  /** Validates like create: a change to code or prefetch is checked by the cloak before it is saved. */
  update(orgId: string, ref: string, change: Partial<NewTask>): TaskRecord {
    const task = this.find(orgId, ref);
    if (change.type !== undefined) checkType(change.type);
    const next = { code: change.code ?? task.code, prefetch: change.prefetch ?? task.prefetch };
    const checked = this.cloak.validateTask(orgId, next);
    return this.store.tasks.update(orgId, task.id, {
      ...change,
      ...(change.prefetch !== undefined ? { prefetch: checked.prefetch } : {}),
    });
  }

  delete(orgId: string, ref: string): void {
    this.store.tasks.delete(orgId, this.find(orgId, ref).id);
  }

  find(orgId: string, ref: string): TaskRecord {
    const task = this.store.tasks.byIdOrToken(orgId, ref);
    if (!task) throw new AppError('TASK_NOT_FOUND', { task: ref });
    return task;
  }

  /** A run that fails as a whole throws and publishes nothing; a completed run publishes one result. */
  async runBatch(orgId: string, ref: string): Promise<StoredResult> {
    const task = this.find(orgId, ref);
    if (task.type !== 'batch') {
      throw new AppError('TASK_NOT_BATCH', { name: task.name, type: task.type });
    }
    const result = await this.cloak.runTask(orgId, { code: task.code, prefetch: task.prefetch });
    return this.store.results.publish(task.id, task.codeVersion, result);
  }
}

function checkType(type: string): void {
  if (!(TASK_TYPES as readonly string[]).includes(type)) {
    throw new AppError('INVALID_PARAMETER', {
      detail: `"${type}" is not a task type. Use one of: ${TASK_TYPES.join(', ')}.`,
    });
  }
}
