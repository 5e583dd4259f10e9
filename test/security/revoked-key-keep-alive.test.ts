// Revoking a key stops a client that holds an open keep-alive connection, on its very next request.
import https from 'node:https';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startTestInstallation, type TestInstallation } from '../support/installation.ts';
import { request } from '../support/https-client.ts';

describe('revoked key on a keep-alive connection', () => {
  let inst: TestInstallation;
  beforeAll(async () => {
    inst = await startTestInstallation();
  });
  afterAll(() => inst.stop());

  it('refuses the next request on the same TLS connection once the key is revoked', async () => {
    const orgId = await inst.createOrg('Keep-alive');
    const key = await inst.issueKey(orgId, 'web_api');
    const agent = new https.Agent({
      keepAlive: true,
      maxSockets: 1,
      pfx: key.pfx,
      passphrase: key.passphrase,
      ca: inst.ca,
    });
    const sockets = new Set<unknown>();
    agent.on('free', (socket) => sockets.add(socket));
    try {
      const url = `${inst.platform.webUrl}/api/tasks`;
      expect((await request(url, inst.ca, { agent })).status).toBe(200);
      expect((await request(url, inst.ca, { agent })).status).toBe(200);
      await inst.platform.air.keys.revoke(orgId, key.id);
      const after = await request(url, inst.ca, { agent });
      expect(after.status).toBe(401);
      expect(after.json.error).toMatch(/revoked/);
      // All three requests travelled over one connection, so the check is not a handshake check.
      expect(sockets.size).toBe(1);
    } finally {
      agent.destroy();
    }
  });
});
