// Web logins: first admin, hashed passwords, secure session cookies, CSRF, rate limiting and logout.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { hashPassword, verifyPassword } from '../../src/air/auth/password-hash.ts';
import { FIRST_ADMIN_EMAIL } from '../../src/air/index.ts';
import { startPlatform } from '../../src/platform/index.ts';
import { buildConfig } from '../../src/config/index.ts';
import { startTestInstallation, type TestInstallation } from '../support/installation.ts';
import type { TestResponse } from '../support/https-client.ts';

const sessionCookie = (response: TestResponse) => {
  const cookies = ([] as string[]).concat(response.headers['set-cookie'] ?? []);
  return cookies.find((c) => c.startsWith('oc_session='));
};

describe('web login', () => {
  let inst: TestInstallation;
  let admin: { email: string; password: string };

  beforeAll(async () => {
    // Room for the wrong passwords below in the global login budget (tested in
    // test/api/login-flood-latency.test.ts), which on a busy machine fits only two or three.
    inst = await startTestInstallation({ web: { loginCheckBurstSeconds: 60 } });
    admin = inst.platform.initialAdmin!;
  });
  afterAll(() => inst.stop());

  it('creates the first admin once, with a password stored only as a memory-hard hash', async () => {
    expect(admin.email).toBe(FIRST_ADMIN_EMAIL);
    expect(admin.password.length).toBeGreaterThanOrEqual(20);
    const stored = (await inst.platform.air.organisations.findLogin(admin.email))!;
    expect(stored.role).toBe('admin');
    expect(stored.passwordHash).toMatch(/^scrypt\$32768\$8\$1\$/);
    expect(stored.passwordHash).not.toContain(admin.password);
    expect(await verifyPassword(admin.password, stored.passwordHash!)).toBe(true);
  });

  it('logs in with a Secure, HttpOnly, SameSite=Strict session cookie, and refuses a wrong password without telling which part was wrong', async () => {
    const ok = await inst.web('/auth/login', {
      body: { email: admin.email, password: admin.password },
    });
    expect(ok.status).toBe(200);
    expect(ok.json.user).toMatchObject({ email: admin.email, role: 'admin' });
    const cookie = sessionCookie(ok)!;
    expect(cookie).toMatch(/HttpOnly/);
    expect(cookie).toMatch(/Secure/);
    expect(cookie).toMatch(/SameSite=Strict/);

    const wrongPassword = await inst.web('/auth/login', {
      body: { email: admin.email, password: 'nope-nope-nope' },
    });
    const unknownUser = await inst.web('/auth/login', {
      body: { email: 'who@x.test', password: 'nope-nope-nope' },
    });
    expect(wrongPassword.status).toBe(401);
    expect(unknownUser.json).toEqual(wrongPassword.json);
  });

  it('requires the CSRF token for state-changing requests, and logout ends the session', async () => {
    const login = await inst.web('/auth/login', {
      body: { email: admin.email, password: admin.password },
    });
    const cookie = sessionCookie(login)!.split(';')[0]!;
    const csrf = login.json.csrf_token as string;
    expect((await inst.web('/auth/session', { headers: { cookie } })).json.user.email).toBe(
      admin.email,
    );

    const noToken = await inst.web('/auth/logout', { method: 'POST', headers: { cookie } });
    expect(noToken.status).toBe(403);
    const wrongToken = await inst.web('/auth/logout', {
      method: 'POST',
      headers: { cookie, 'x-csrf-token': `${csrf.slice(1)}x` },
    });
    expect(wrongToken.status).toBe(403);
    const logout = await inst.web('/auth/logout', {
      method: 'POST',
      headers: { cookie, 'x-csrf-token': csrf },
    });
    expect(logout.status).toBe(200);
    expect((await inst.web('/auth/session', { headers: { cookie } })).status).toBe(401);
  });

  it('locks an account out of an address after 5 failed logins from it, with Retry-After, even for the right password', async () => {
    const org = await inst.createOrg('Lockout');
    const analyst = await inst.platform.air.organisations.addAnalyst(
      org,
      'ada@lockout.test',
      'Ada',
    );
    await inst.platform.air.organisations.setPasswordHash(
      analyst.id,
      await hashPassword('correct horse battery'),
    );
    for (let i = 0; i < 5; i++) {
      expect(
        (
          await inst.web('/auth/login', {
            body: { email: 'ada@lockout.test', password: `wrong-${i}` },
          })
        ).status,
      ).toBe(401);
    }
    const locked = await inst.web('/auth/login', {
      body: { email: 'ada@lockout.test', password: 'correct horse battery' },
    });
    expect(locked.status).toBe(429);
    expect(Number(locked.headers['retry-after'])).toBeGreaterThan(0);
    expect(locked.json.error).toMatch(/Wait \d+ seconds/);
    const events = (await inst.platform.air.audit.list(org)).map((e) => e.event);
    expect(events.filter((e) => e === 'login.failed')).toHaveLength(5);
  });

  it('creates no second admin and shows no password on a later start', async () => {
    await inst.platform.stop();
    const again = await startPlatform(
      buildConfig({ dataDir: inst.dataDir, web: { port: 0 }, cloak: { port: 0 } }),
    );
    try {
      expect(again.initialAdmin).toBeUndefined();
      expect((await again.air.organisations.findLogin(admin.email))?.role).toBe('admin');
    } finally {
      await again.stop();
      // Leaves a stopped platform for afterAll's stop, which tolerates it.
    }
  });
});
