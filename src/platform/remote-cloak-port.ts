// The air's CloakPort when the cloak runs on another host: the cloak API's /service routes, with the service key.
import type { CloakPort, TableSummary, TestUserOutcome } from '../air/index.ts';
import { serviceApiClient, type CloakApiShapes, type PemClientKey } from '../api-client/index.ts';
import { AppError, ERROR_CATALOGUE, type ErrorCode } from '../errors/index.ts';
import type { BudgetState, ColumnDefinition, RunControl, TaskSpec } from '../shared/index.ts';

/** The cloak's /service routes name an error's catalogue code in this header (cloak/routes/service.ts). */
const ERROR_CODE_HEADER = 'opencloak-error-code';

/**
 * The cloak's own error, raised again on the air's side with the cloak's message and the same
 * code, so that the air answers its callers exactly as with the cloak in its own process.
 */
class CloakError extends AppError {
  constructor(code: ErrorCode, message: string) {
    super(code);
    this.message = message;
    Object.defineProperty(this, 'cliMessage', { value: message });
  }
}

/** An organisation id the air never makes (its ids are random tokens): the start-up probe's. */
const PING_ORG = 'opencloak-start-probe';

export interface RemoteCloakPort extends CloakPort {
  /** Resolves once the cloak answers this service key; CLOAK_UNREACHABLE or its 401/403 otherwise. */
  ping(): Promise<void>;
  /** Ends the connection pool; calls after it fail. */
  close(): Promise<void>;
}

/** What openapi-fetch answers: the body on success, the error body and the response otherwise. */
interface Answer<T> {
  data?: T;
  error?: unknown;
  response: Response;
}

export function remoteCloakPort(baseUrl: string, key: PemClientKey): RemoteCloakPort {
  const client = serviceApiClient(baseUrl, key);

  /** Calls one route; a refusal becomes the cloak's AppError, a broken connection CLOAK_UNREACHABLE. */
  async function call<T>(request: () => Promise<Answer<T>>, signal?: AbortSignal): Promise<T> {
    let answer: Answer<T>;
    try {
      answer = await request();
    } catch (error) {
      if (signal?.aborted) throw new AppError('TASK_RUN_CANCELLED');
      throw new AppError('CLOAK_UNREACHABLE', { url: baseUrl, reason: reasonOf(error) });
    }
    if (answer.data !== undefined && answer.response.ok) return answer.data;
    const code = answer.response.headers.get(ERROR_CODE_HEADER);
    const message = (answer.error as { error?: unknown } | undefined)?.error;
    if (code !== null && code in ERROR_CATALOGUE && typeof message === 'string') {
      throw new CloakError(code as ErrorCode, message);
    }
    throw new AppError('CLOAK_UNREACHABLE', {
      url: baseUrl,
      reason: `HTTP ${answer.response.status} without an OpenCloak error`,
    });
  }

  const runOptions = (control: RunControl | undefined) => ({
    ...(control?.signal ? { signal: control.signal } : {}),
  });
  const timeout = (control: RunControl | undefined): { timeout_seconds?: number } =>
    control?.timeoutSeconds !== undefined ? { timeout_seconds: control.timeoutSeconds } : {};

  return {
    async validateTask(orgId, spec) {
      const { spec: checked } = await call(() =>
        client.POST('/service/validate', { body: { org_id: orgId, spec: wire(spec) } }),
      );
      return checked as unknown as TaskSpec;
    },

    async checkRunCap(orgId) {
      await call(() => client.POST('/service/run-cap', { body: { org_id: orgId } }));
    },

    // Progress does not cross the wire: the run's progress stays at its start until it ends.
    async runTask(orgId, spec, control, access) {
      const body = {
        org_id: orgId,
        spec: wire(spec),
        access: access ?? 'untrusted',
        ...timeout(control),
      };
      const { result } = await call(
        () => client.POST('/service/run', { body, ...runOptions(control) }),
        control?.signal,
      );
      return result;
    },

    async previewTask(orgId, spec, control, access) {
      const body = {
        org_id: orgId,
        spec: wire(spec),
        access: access ?? 'untrusted',
        ...timeout(control),
      };
      const { preview } = await call(
        () => client.POST('/service/preview', { body, ...runOptions(control) }),
        control?.signal,
      );
      return preview;
    },

    async budgetState(orgId, limit) {
      const { state } = await call(() =>
        client.POST('/service/budget', { body: { org_id: orgId, limit } }),
      );
      return (state ?? undefined) as BudgetState | undefined;
    },

    async setStreamingTask(orgId, taskKey, spec) {
      await call(() =>
        client.POST('/service/streaming', {
          body: { org_id: orgId, task_key: taskKey, spec: spec && wire(spec) },
        }),
      );
    },

    async streamingReport(orgId, taskKey, userExpireSeconds) {
      const body = { org_id: orgId, task_key: taskKey, user_expire_seconds: userExpireSeconds };
      const { result } = await call(() => client.POST('/service/streaming/report', { body }));
      return result;
    },

    async tryTask(orgId, spec, users) {
      const body = { org_id: orgId, spec: wire(spec), users: [...users] };
      const { outcomes } = await call(() => client.POST('/service/try', { body }));
      // Pairs on the wire (the OpenAPI tuple renders as an array of strings).
      return outcomes as TestUserOutcome[];
    },

    async listTables(orgId) {
      const { tables } = await call(() =>
        client.POST('/service/tables/list', { body: { org_id: orgId } }),
      );
      return tables.map(summary);
    },

    async defineTable(orgId, definition) {
      const { table } = await call(() =>
        client.POST('/service/tables/define', { body: { org_id: orgId, definition } }),
      );
      return summary(table);
    },

    async alterTable(orgId, name, change) {
      const { table } = await call(() =>
        client.POST('/service/tables/alter', { body: { org_id: orgId, name, change } }),
      );
      return summary(table);
    },

    async dropTable(orgId, name) {
      await call(() => client.POST('/service/tables/drop', { body: { org_id: orgId, name } }));
    },

    async userCounts(orgId) {
      const { counts } = await call(() =>
        client.POST('/service/user-counts', { body: { org_id: orgId } }),
      );
      return counts;
    },

    async ping() {
      // Any organisation will do: the list of a name nobody uses is empty, and reads nothing.
      await call(() => client.POST('/service/tables/list', { body: { org_id: PING_ORG } }));
    },

    close: () => client.close(),
  };
}

/**
 * The wire's spec is the outline the /service schema checks; the cloak checks every prefetch
 * entry itself, and a checked spec coming back is one it made.
 */
function wire(spec: TaskSpec): CloakApiShapes['TaskSpec'] {
  return spec as unknown as CloakApiShapes['TaskSpec'];
}

/** Column types arrive as the strings the cloak checked them to be. */
function summary(table: {
  name: string;
  columns: Array<{ name: string; type: string }>;
  version: number;
}): TableSummary {
  return { ...table, columns: table.columns as ColumnDefinition[] };
}

/** undici hides the cause (refused, reset, certificate) one level down. */
function reasonOf(error: unknown): string {
  const cause = (error as { cause?: { code?: unknown; message?: unknown } }).cause;
  const text = cause?.code ?? cause?.message ?? (error as Error).message;
  return String(text);
}
