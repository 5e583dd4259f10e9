// Web logins: POST /auth/login, GET /auth/session, POST /auth/logout, and the session check for pages.
import { timingSafeEqual } from 'node:crypto';
import { setTimeout as delay } from 'node:timers/promises';
import type {
  FastifyPluginAsync,
  FastifyReply,
  FastifyRequest,
  preHandlerHookHandler,
} from 'fastify';
import { z } from 'zod';
import { AppError } from '../../errors/index.ts';
import { okAnswer, parseBody, routeDoc, successWith } from '../../http/index.ts';
import { CheckBudget, type CheckBudgetLimits } from '../auth/check-budget.ts';
import { HashQueue } from '../auth/hash-queue.ts';
import { DUMMY_HASH, verifyPassword } from '../auth/password-hash.ts';
import { SESSION_MAX_MS } from '../auth/sessions.ts';
import { keyTypesFor } from '../key-policy.ts';
import { mayEraseData } from '../data-policy.ts';
import type { Analyst, AirStore } from '../store/index.ts';
import { sessionUser } from './api-schemas.ts';

export const SESSION_COOKIE = 'oc_session';
const UNSAFE_METHODS = new Set(['POST', 'PUT', 'PATCH', 'DELETE']);
/** What a refusal for a full check queue tells the client to wait: a few checks' time. */
const QUEUE_FULL_RETRY_SECONDS = 1;

/**
 * Refused logins are answered this late (as pam_faildelay does): a client that sends its next
 * attempt when the last is answered gets one refusal a second per connection, not thousands,
 * and the event loop stays free for everyone else. Waiting costs a timer, not the CPU.
 */
const REFUSAL_DELAY_MS = 1000;

/** A 429 with Retry-After (docs/api.md, "Web logins"), after REFUSAL_DELAY_MS. */
async function refuse(
  reply: FastifyReply,
  code: 'LOGIN_BUSY' | 'TOO_MANY_LOGIN_ATTEMPTS',
  seconds: number,
): Promise<never> {
  await delay(REFUSAL_DELAY_MS);
  reply.header('retry-after', String(seconds));
  throw new AppError(code, { seconds });
}

declare module 'fastify' {
  interface FastifyRequest {
    session?: { analyst: Analyst; csrfToken: string; token: string };
  }
}

const loginBody = z.strictObject({
  email: z.string().min(1).max(320),
  password: z.string().min(1).max(1024),
});

function publicUser(analyst: Analyst) {
  return {
    id: analyst.id,
    email: analyst.email,
    name: analyst.name,
    role: analyst.role,
    access_level: analyst.accessLevel,
    org_id: analyst.orgId,
    // For the site's key form; the key service checks again on every creation.
    key_types: keyTypesFor(analyst.role),
    // For the Tables page's drop buttons; the table routes check again.
    may_erase_data: mayEraseData(analyst.role),
  };
}

/**
 * A valid session cookie, and for state-changing methods also the session's CSRF token in the
 * X-CSRF-Token header (the cookie is SameSite=Strict as well; the header is the second lock).
 */
export function requireSession(store: AirStore): preHandlerHookHandler {
  return async function checkSession(request: FastifyRequest) {
    const token = request.cookies[SESSION_COOKIE];
    const session = token ? await store.sessions.touch(token) : undefined;
    const analyst = session && (await store.organisations.analyst(session.analystId));
    if (!token || !session || !analyst) throw new AppError('SESSION_REQUIRED');
    if (UNSAFE_METHODS.has(request.method)) {
      const sent = Buffer.from(String(request.headers['x-csrf-token'] ?? ''));
      const expected = Buffer.from(session.csrfToken);
      if (sent.length !== expected.length || !timingSafeEqual(sent, expected)) {
        throw new AppError('CSRF_TOKEN_INVALID');
      }
    }
    request.session = { analyst, csrfToken: session.csrfToken, token };
  };
}

export const authRoutes: FastifyPluginAsync<{
  store: AirStore;
  loginBudget: CheckBudgetLimits;
}> = async (app, { store, loginBudget }) => {
  const throttle = store.loginThrottle;
  const checks = new HashQueue();
  const budget = new CheckBudget(loginBudget);

  /**
   * Checks a password on the libuv pool, after the global budget (unless from a known address)
   * and the queue admit it. An unknown account costs a full check too (against DUMMY_HASH), so
   * timing does not tell which e-mails exist. True only for an account's right password.
   */
  async function checkPassword(
    password: string,
    stored: string | null | undefined,
    known: boolean,
    reply: FastifyReply,
  ): Promise<boolean> {
    const reservation = known ? { reserved: 0 } : budget.reserve();
    if ('waitSeconds' in reservation) return refuse(reply, 'LOGIN_BUSY', reservation.waitSeconds);
    let tookSeconds = 0;
    const check = checks.run(known ? 'priority' : 'normal', async () => {
      const started = performance.now();
      try {
        return await verifyPassword(password, stored ?? DUMMY_HASH);
      } finally {
        tookSeconds = (performance.now() - started) / 1000;
      }
    });
    if (!check) {
      budget.settle(reservation.reserved, 0, false);
      return refuse(reply, 'LOGIN_BUSY', QUEUE_FULL_RETRY_SECONDS);
    }
    let valid = false;
    try {
      valid = (await check) && stored != null;
      return valid;
    } finally {
      if (!known) budget.settle(reservation.reserved, tookSeconds, !valid);
    }
  }
  const preHandler = requireSession(store);
  const loggedIn = { 200: successWith({ user: sessionUser, csrf_token: z.string() }) };
  const doc = (summary: string, responses: Record<number, unknown>) => ({
    schema: routeDoc({ tags: ['login'], summary, responses }),
  });

  const loginDoc = routeDoc({
    tags: ['login'],
    summary: 'Log in to the web site: sets the session cookie',
    body: loginBody,
    responses: loggedIn,
  });
  app.post(
    '/auth/login',
    { schema: loginDoc },
    async (request: FastifyRequest, reply: FastifyReply) => {
      const { email, password } = parseBody(loginBody, request.body);
      const account = await store.organisations.findLogin(email);
      const attempt = {
        account: email.toLowerCase(),
        address: request.ip,
        known:
          account !== undefined && (await store.knownAddresses.isKnown(account.id, request.ip)),
      };
      const wait = await throttle.retryAfterSeconds(attempt);
      if (wait > 0) return refuse(reply, 'TOO_MANY_LOGIN_ATTEMPTS', wait);
      const valid = await checkPassword(password, account?.passwordHash, attempt.known, reply);
      if (!account || !valid) {
        await throttle.fail(attempt);
        await store.audit.record({
          orgId: account?.orgId ?? null,
          event: 'login.failed',
          actor: 'anonymous',
          detail: { email, address: request.ip },
        });
        throw new AppError('LOGIN_FAILED');
      }
      await throttle.succeed(attempt);
      await store.knownAddresses.remember(account.id, request.ip);
      const { token, csrfToken } = await store.sessions.create(account.id);
      await store.audit.record({
        orgId: account.orgId,
        event: 'login.succeeded',
        actor: `analyst:${account.id}`,
        detail: { address: request.ip },
      });
      reply.setCookie(SESSION_COOKIE, token, {
        httpOnly: true,
        secure: true,
        sameSite: 'strict',
        path: '/',
        maxAge: SESSION_MAX_MS / 1000,
      });
      return { success: true, user: publicUser(account), csrf_token: csrfToken };
    },
  );

  const sessionDoc = doc("The session's person and CSRF token", loggedIn);
  app.get('/auth/session', { preHandler, ...sessionDoc }, async (request) => ({
    success: true,
    user: publicUser(request.session!.analyst),
    csrf_token: request.session!.csrfToken,
  }));

  const logoutDoc = doc('Log out: ends the session', { 200: okAnswer });
  app.post('/auth/logout', { preHandler, ...logoutDoc }, async (request, reply) => {
    await store.sessions.delete(request.session!.token);
    reply.clearCookie(SESSION_COOKIE, {
      path: '/',
      httpOnly: true,
      secure: true,
      sameSite: 'strict',
    });
    return { success: true };
  });
};
