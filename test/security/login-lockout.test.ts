// Wrong passwords from one address lock that address out, never the right password from another.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startTestInstallation, type TestInstallation } from '../support/installation.ts';
import { errorCode } from '../support/site-session.ts';

/** The server sees the socket's address (no trustProxy); Linux routes all of 127/8 to loopback. */
const ATTACKER = '127.0.0.1';
const ADMIN_DESK = '127.0.0.2';
const WRONG_TRIES = 6;

describe('login lock-out', () => {
  let inst: TestInstallation;
  let admin: { email: string; password: string };
  const login = (password: string, localAddress: string) =>
    inst.web('/auth/login', { body: { email: admin.email, password }, localAddress });

  beforeAll(async () => {
    // Room for the wrong passwords in the global login budget (on a busy machine, a check takes
    // over 500 ms and the default burst of 1 s fits two): this tests the lock-out, not the budget.
    inst = await startTestInstallation({ web: { loginCheckBurstSeconds: 60 } });
    admin = inst.platform.initialAdmin!;
  });
  afterAll(() => inst?.stop());

  it('lets the admin in from another address after wrong passwords for the admin from elsewhere', async () => {
    const statuses: number[] = [];
    for (let i = 0; i < WRONG_TRIES; i++)
      statuses.push((await login(`wrong-${i}`, ATTACKER)).status);
    expect(statuses.slice(0, 5)).toEqual([401, 401, 401, 401, 401]);
    expect(statuses.at(-1)).toBe(429);

    // The attacker's address is locked out for the admin even with the right password ...
    const locked = await login(admin.password, ATTACKER);
    expect(locked.status).toBe(429);
    expect(errorCode(locked)).toBe('TOO_MANY_LOGIN_ATTEMPTS');
    expect(Number(locked.headers['retry-after'])).toBeGreaterThan(0);

    // ... the admin at their own desk is not.
    const fromDesk = await login(admin.password, ADMIN_DESK);
    expect(fromDesk.status).toBe(200);
    expect(fromDesk.json.user.email).toBe(admin.email);
    const audit = (await inst.platform.air.audit.list()).map((e) => [e.event, e.detail.address]);
    expect(audit.filter(([event]) => event === 'login.failed')).toEqual(
      Array.from({ length: 5 }, () => ['login.failed', ATTACKER]),
    );
    expect(audit[0]).toEqual(['login.succeeded', ADMIN_DESK]);
  });
});
