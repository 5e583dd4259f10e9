// A body over the limit gets a 413 JSON answer that the client reads after sending its whole body,
// without a broken pipe or a reset: whether announced by Content-Length, sent chunked, or held back
// behind Expect: 100-continue (then the answer comes before the body is sent).
import https from 'node:https';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { TestKey } from '../support/https-client.ts';
import { startTestInstallation, type TestInstallation } from '../support/installation.ts';
import { rawHttps } from '../support/raw-https.ts';
import { DRAIN_LIMIT_BYTES } from '../../src/http/oversized-bodies.ts';

const CLOAK_LIMIT = 64 * 1024;
const WEB_LIMIT = 1024 * 1024;
/** Far over both limits, so the server answers while the client is still sending. */
const OVERSIZED = Buffer.alloc(32 * 1024 * 1024, 'a');
const CHUNK_BYTES = 64 * 1024;

interface Outcome {
  status?: number;
  json?: unknown;
  /** Set when the client could not send its body or read the answer (EPIPE, ECONNRESET...). */
  error?: string;
  /** Whether the server asked for the body (100 Continue). */
  continued: boolean;
}

/**
 * Posts `body` the way curl does: the whole body is sent, then the answer read; any socket error
 * on the way counts as a failure, even one that comes after the status line.
 */
function post(
  url: string,
  ca: string,
  body: Buffer,
  options: { key?: TestKey; chunked?: boolean; expectContinue?: boolean } = {},
): Promise<Outcome> {
  const headers: Record<string, string | number> = { 'content-type': 'application/json' };
  if (!options.chunked) headers['content-length'] = body.length;
  if (options.expectContinue) headers.expect = '100-continue';
  const outcome: Outcome = { continued: false };
  return new Promise((resolve) => {
    const req = https.request(url, {
      method: 'POST',
      ca,
      agent: false,
      headers,
      ...(options.key ?? {}),
    });
    const send = () => {
      for (let at = 0; at < body.length; at += CHUNK_BYTES) {
        req.write(body.subarray(at, at + CHUNK_BYTES));
      }
      req.end();
    };
    req.on('continue', () => {
      outcome.continued = true;
      send();
    });
    req.on('response', (res) => {
      outcome.status = res.statusCode ?? 0;
      const chunks: Buffer[] = [];
      res.on('data', (c: Buffer) => chunks.push(c));
      res.on('end', () => {
        outcome.json = JSON.parse(Buffer.concat(chunks).toString('utf8'));
      });
      res.on('error', (e: NodeJS.ErrnoException) => (outcome.error ??= e.code ?? e.message));
    });
    req.on('error', (e: NodeJS.ErrnoException) => (outcome.error ??= e.code ?? e.message));
    req.on('close', () => resolve(outcome));
    if (options.expectContinue) req.flushHeaders();
    else send();
  });
}

function tooLarge(limit: number) {
  return {
    success: false,
    error: expect.stringContaining(`larger than the limit of ${limit} bytes`),
  };
}

describe('oversized request bodies', () => {
  let inst: TestInstallation;
  let orgId: string;
  let upload: TestKey;
  beforeAll(async () => {
    inst = await startTestInstallation({ cloak: { bodyLimitBytes: CLOAK_LIMIT } });
    orgId = await inst.createOrg('Oversized');
    upload = await inst.issueKey(orgId, 'upload_any');
    await inst.platform.cloak.data.createTable(orgId, {
      name: 'visits',
      columns: [{ name: 'page', type: 'text' }],
    });
  });
  afterAll(() => inst.stop());

  it.each([false, true])(
    'answers a 32 MB upload to the cloak with a 413 the client reads (chunked: %s)',
    async (chunked) => {
      const url = `${inst.platform.cloakUrl}/bulk_insert`;
      const outcome = await post(url, inst.ca, OVERSIZED, { key: upload, chunked });
      expect(outcome).toEqual({ status: 413, json: tooLarge(CLOAK_LIMIT), continued: false });
      expect(await inst.platform.cloak.data.rowCount(orgId, 'visits')).toBe(0);
    },
  );

  it.each([false, true])(
    'answers a 32 MB body to the web server with a 413 the client reads (chunked: %s)',
    async (chunked) => {
      const outcome = await post(`${inst.platform.webUrl}/auth/login`, inst.ca, OVERSIZED, {
        chunked,
      });
      expect(outcome).toEqual({ status: 413, json: tooLarge(WEB_LIMIT), continued: false });
    },
  );

  it('answers Expect: 100-continue with a 413 before the body is sent', async () => {
    const url = `${inst.platform.cloakUrl}/bulk_insert`;
    const outcome = await post(url, inst.ca, OVERSIZED, { key: upload, expectContinue: true });
    expect(outcome).toEqual({ status: 413, json: tooLarge(CLOAK_LIMIT), continued: false });
  });

  it('answers at once, and closes, when the declared length is past what the server reads', async () => {
    const request =
      'POST /bulk_insert HTTP/1.1\r\nHost: localhost\r\nContent-Type: application/json\r\n' +
      `Content-Length: ${DRAIN_LIMIT_BYTES + 1}\r\n\r\n{"a":`;
    const response = await rawHttps(inst.platform.cloakUrl, inst.ca, request);
    expect(response.status).toBe(413);
    expect(response.headers.connection).toBe('close');
    expect(JSON.parse(response.body)).toEqual(tooLarge(CLOAK_LIMIT));
  });

  it('still takes a body within the limit behind Expect: 100-continue', async () => {
    const url = `${inst.platform.cloakUrl}/bulk_insert`;
    const body = Buffer.from(JSON.stringify({ ann: { visits: [{ page: 'home' }] } }));
    const outcome = await post(url, inst.ca, body, { key: upload, expectContinue: true });
    expect(outcome).toEqual({ status: 200, json: { success: true }, continued: true });
  });
});
