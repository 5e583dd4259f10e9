// The embedded default's CloakPort: the air's calls go straight to the cloak in this process.
import type { CloakPort, TableUserCount } from '../air/index.ts';
import { requireSync, tryTask, type Cloak } from '../cloak/index.ts';
import type { OpenCloakConfig } from '../config/index.ts';

/** Bucket label of the task that counts a table's users; its value is empty. */
const USERS_LABEL = 'users';

export function inProcessCloakPort(cloak: Cloak, config: Readonly<OpenCloakConfig>): CloakPort {
  const { data, runner } = cloak;
  return {
    validateTask: (orgId, spec) => runner.validate(orgId, spec),
    checkRunCap: (orgId) => runner.checkRunCap(orgId),
    runTask: (orgId, spec, control, access) => runner.run(orgId, spec, control, access),
    previewTask: (orgId, spec, control, access) => runner.preview(orgId, spec, control, access),
    budgetState: (orgId, limit) => cloak.budget?.state(orgId, limit),
    setStreamingTask: (orgId, taskKey, spec) => cloak.streaming.register(orgId, taskKey, spec),
    streamingReport: (orgId, taskKey, userExpireSeconds) =>
      cloak.streaming.report(orgId, taskKey, userExpireSeconds),

    tryTask: (orgId, spec, users) =>
      tryTask(
        runner,
        { limits: { ...config.sandbox }, timeoutSeconds: config.cloak.tryTimeoutSeconds },
        orgId,
        spec,
        users,
      ),

    // Still synchronous in CloakPort: the embedded store's core until the port turns async.
    listTables: (orgId) => requireSync(data, 'CloakPort.listTables').listTables(orgId),
    defineTable: (orgId, definition) =>
      requireSync(data, 'CloakPort.defineTable').createTable(orgId, definition),
    alterTable: (orgId, name, change) =>
      requireSync(data, 'CloakPort.alterTable').alterTable(orgId, name, change),
    dropTable: (orgId, name) => requireSync(data, 'CloakPort.dropTable').dropTable(orgId, name),

    async userCounts(orgId) {
      const counts: TableUserCount[] = [];
      for (const { name } of await data.listTables(orgId)) {
        // An anonymized run of one bucket that every user with rows reports (sticky noise, the
        // low-count filter), outside the participation budget: its code is the cloak's, not an
        // analyst's, and its user set is whoever data owners uploaded, which no analyst chooses.
        // Budgeted, every view of the Tables page would spend a budget notice (a run of the
        // period) and show a table low, or "too few", once its users had spent their budget.
        const result = await runner.run(
          orgId,
          {
            code: `report_property(${JSON.stringify(USERS_LABEL)}, '')`,
            prefetch: [{ table: name }],
          },
          {},
          'trusted',
        );
        const bucket = result.buckets.find((b) => b.label === USERS_LABEL);
        counts.push({ table: name, users: bucket ? bucket.count : null });
      }
      return counts;
    },
  };
}
