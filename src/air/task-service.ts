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
    if (!(TASK_TYPES as readonly string[]).includes(task.type)) {
      throw new AppError('INVALID_PARAMETER', {
        detail: `"${task.type}" is not a task type. Use one of: ${TASK_TYPES.join(', ')}.`,
      });
    }
    const checked = this.cloak.validateTask(orgId, { code: task.code, prefetch: task.prefetch });
    return this.store.tasks.create(orgId, { ...task, prefetch: checked.prefetch });
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
