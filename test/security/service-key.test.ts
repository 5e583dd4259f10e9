// The air's service key reaches only the /service routes; analyst keys never do; revoking it takes effect at once.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { withArticle } from '../../src/errors/index.ts';
import { createServiceKey, revokeServiceKey } from '../../src/platform/index.ts';
import { KEY_TYPES } from '../../src/shared/index.ts';
import { startTestInstallation, type TestInstallation } from '../support/installation.ts';
import type { TestKey } from '../support/https-client.ts';

const LIST = '/service/tables/list';

describe('the service key', () => {
  let inst: TestInstallation;
  let orgId: string;
  let service: TestKey;
  let serviceId: string;

  beforeAll(async () => {
    inst = await startTestInstallation();
    orgId = await inst.createOrg('Acme');
    await inst.platform.cloak.data.createTable(orgId, {
      name: 'visits',
      columns: [{ name: 'page', type: 'text' }],
    });
    const { record, pem } = createServiceKey(inst.dataDir, inst.platform.pki.ca, {
      description: 'test air',
      validDays: 1,
    });
    serviceId = record.id;
    service = { cert: pem, key: pem };
  });
  afterAll(() => inst.stop());

  it('lists any organisation it names, which analysts never can', async () => {
    const answer = await inst.cloak(LIST, { body: { org_id: orgId }, key: service });
    expect(answer.status).toBe(200);
    expect(answer.json.tables.map((t: { name: string }) => t.name)).toEqual(['visits']);
  });

  it.each(KEY_TYPES)(
    'refuses the %s key on the service routes with a 403 naming the service key',
    async (type) => {
      const key = await inst.issueKey(orgId, type, type === 'upload_user' ? 'u1' : undefined);
      const answer = await inst.cloak(LIST, { body: { org_id: orgId }, key });
      expect(answer.status).toBe(403);
      expect(answer.json).toEqual({ success: false, error: expect.stringMatching(/air_service/) });
      expect(answer.json.error).toContain(`${withArticle(type)} key may not use it`);
      // In the audit log like any refused request, with the key that tried.
      const [entry] = await inst.platform.air.audit.list(orgId, 1);
      expect(entry).toMatchObject({
        event: 'authentication.failed',
        detail: { reason: 'SERVICE_KEY_REQUIRED', path: LIST, keyType: type },
      });
    },
  );

  it('refuses a request without a certificate', async () => {
    const answer = await inst.cloak(LIST, { body: { org_id: orgId } });
    expect(answer.status).toBe(401);
  });

  it('is no analyst key: the analyst routes refuse it', async () => {
    const answer = await inst.cloak('/task/run', {
      body: { prefetch: [{ table: 'visits' }], post_processing: { code: '' } },
      key: service,
    });
    expect(answer.status).toBe(401);
  });

  it('refuses a body without an organisation with a 422 that names the field', async () => {
    const answer = await inst.cloak(LIST, { body: {}, key: service });
    expect(answer.status).toBe(422);
    expect(answer.json.error).toMatch(/"org_id"/);
  });

  it('stops working at the next request once revoked', async () => {
    revokeServiceKey(inst.dataDir, serviceId);
    const answer = await inst.cloak(LIST, { body: { org_id: orgId }, key: service });
    expect(answer.status).toBe(401);
    expect(answer.json.error).toMatch(/revoked/);
  });
});
