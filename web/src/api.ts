// The site's client for /auth and /api/site: the session cookie goes along, and the CSRF token
// in X-CSRF-Token on every state-changing request. Shapes the site shares with the web REST API
// come from its OpenAPI description (src/api-client, generated), not hand-copied.
import type { components } from '../../src/api-client/web-api.generated.ts';

type WebApiShapes = components['schemas'];

/** The logged-in person (GET /auth/session), as the web REST API's description has it. */
export type User = WebApiShapes['SessionUser'];

export type Role = User['role'];

export type AccessLevel = User['access_level'];

/** What each access level means, in the words the Admin and Keys pages use. */
export const ACCESS_LEVEL_TEXT: Readonly<Record<AccessLevel, string>> = {
  untrusted: 'untrusted (participation budget)',
  trusted: 'trusted (no budget; every run audited with its code)',
};

export interface Column {
  name: string;
  type: string;
}

export interface Table {
  name: string;
  columns: Column[];
  version: number;
}

export interface ApiKey {
  id: string;
  type: string;
  description: string;
  user_id: string | null;
  created_at: number;
  expires_at: number;
  revoked_at: number | null;
  status: 'active' | 'revoked' | 'expired';
}

export interface Prefetch {
  table: string;
  user_rows?: number;
  time_limit?: number;
  where?: Array<Record<string, unknown>>;
}

/** A task as /api/tasks lists it; the site's list adds its number of results and the latest. */
export type TaskSummary = WebApiShapes['Task'] & {
  results?: number;
  latest_result_at?: number | null;
};

/** A task with its code, as GET /api/tasks/<token> answers. */
export type Task = WebApiShapes['TaskDetail'] & { prefetch: Prefetch[] };

/** A run (or a cost preview, kind "preview", which publishes nothing). */
export type Run = WebApiShapes['Run'];

export interface Bucket {
  label: string;
  value: string;
  count: number;
  name: string;
}

/** What a budgeted run published about the participation budget (noisy figures, never which users). */
export type BudgetNotice = WebApiShapes['BudgetNotice'];

/** GET /api/site/budget: the organisation's budget, or why there is none. */
export type BudgetView = WebApiShapes['BudgetView'];

/** A notice as the budget's log keeps it (already published: showing it again is free). */
export type BudgetDisclosure = Extract<BudgetView, { enabled: true }>['disclosures'][number];

/** POST /api/site/tasks/<token>/preview: the notice the run would publish, or why it has no cost. */
export type BudgetPreview = WebApiShapes['BudgetPreview'];

export interface Result {
  id: number;
  published_at: number;
  code_version: number;
  buckets: Bucket[];
  exceptions: Array<{ error: string; count: number }>;
  /** Present when the run was charged to the participation budget. */
  budget?: BudgetNotice;
}

export interface TestUser {
  id: string;
  tables: Record<string, Array<Record<string, string | number | boolean | null>>>;
}

export type TestOutcome =
  | { id: string; ok: true; properties: Array<[string, string]> }
  | { id: string; ok: false; error: string };

/** An error answer of the API: its message says what to fix. */
export class ApiError extends Error {
  constructor(
    readonly status: number,
    message: string,
  ) {
    super(message);
  }
}

/** Dispatched on window when an /api/site call answers 401. */
export const SESSION_ENDED = 'opencloak:session-ended';

let csrfToken = '';

export function setCsrfToken(token: string): void {
  csrfToken = token;
}

export async function api<T>(
  path: string,
  init: { method?: string; body?: unknown } = {},
): Promise<T> {
  const method = init.method ?? (init.body === undefined ? 'GET' : 'POST');
  const headers: Record<string, string> = {};
  if (init.body !== undefined) headers['content-type'] = 'application/json';
  if (method !== 'GET') headers['x-csrf-token'] = csrfToken;
  const response = await fetch(path, {
    method,
    headers,
    credentials: 'same-origin',
    ...(init.body !== undefined ? { body: JSON.stringify(init.body) } : {}),
  });
  const json = (await response.json().catch(() => ({}))) as { error?: string };
  // A session that ended (expired, or logged out elsewhere) sends the site back to the login form.
  if (response.status === 401 && path.startsWith('/api/site/')) {
    window.dispatchEvent(new Event(SESSION_ENDED));
  }
  if (!response.ok) {
    throw new ApiError(response.status, json.error ?? `The server answered ${response.status}.`);
  }
  return json as T;
}

export const formatTime = (ms: number | null | undefined): string =>
  ms ? new Date(ms).toLocaleString(undefined, { dateStyle: 'medium', timeStyle: 'short' }) : '—';
