// A logged-in web-site session for tests: the session cookie and the CSRF token on every request.
import { ERROR_CATALOGUE } from '../../src/errors/index.ts';
import type { RequestOptions, TestResponse } from './https-client.ts';
import type { TestInstallation } from './installation.ts';

export type SiteClient = (
  pathAndQuery: string,
  options?: RequestOptions & { csrf?: boolean },
) => Promise<TestResponse>;

/** Logs in and returns a client that sends the cookie, and the CSRF token unless `csrf: false`. */
export async function loginToSite(
  inst: TestInstallation,
  email: string,
  password: string,
): Promise<SiteClient> {
  const login = await inst.web('/auth/login', { body: { email, password } });
  if (login.status !== 200) throw new Error(`login as ${email} failed: ${login.text}`);
  const setCookie = ([] as string[]).concat(login.headers['set-cookie'] ?? []);
  const cookie = setCookie.find((c) => c.startsWith('oc_session='))!.split(';')[0]!;
  const csrfToken = login.json.csrf_token as string;
  return (pathAndQuery, { csrf = true, ...options } = {}) =>
    inst.web(pathAndQuery, {
      ...options,
      headers: {
        cookie,
        ...(csrf ? { 'x-csrf-token': csrfToken } : {}),
        ...(options.headers ?? {}),
      },
    });
}

/** Creates a person (by default an analyst) with a password, as an admin would, and logs them in. */
export async function analystSession(
  inst: TestInstallation,
  admin: SiteClient,
  orgId: string,
  email: string,
  role: 'admin' | 'analyst' | 'data_owner' = 'analyst',
): Promise<SiteClient> {
  const password = `${email}-password`;
  const created = await admin('/api/site/admin/users', {
    body: { org_id: orgId, email, name: email.split('@')[0], role, password },
  });
  if (created.status !== 201) throw new Error(`creating ${email} failed: ${created.text}`);
  return loginToSite(inst, email, password);
}

const TEMPLATES = Object.entries(ERROR_CATALOGUE).map(([code, entry]) => {
  const pattern = entry.template
    .split(/\{\w+\}/)
    .map((part) => part.replace(/[.*+?^${}()|[\]\\]/g, '\\$&'))
    .join('[\\s\\S]*');
  return { code, status: entry.status, pattern: new RegExp(`^${pattern}$`) };
});

/** The catalogue code of a JSON error response (errors carry the message, not the code). */
export function errorCode(response: TestResponse): string | undefined {
  const message = response.json?.error;
  if (typeof message !== 'string') return undefined;
  return TEMPLATES.find((t) => t.status === response.status && t.pattern.test(message))?.code;
}
