// Errors raised before a route runs (bad URL, 414, 431, bad chunked encoding, 404) keep the JSON
// shape {"success":false,"error":...} on both servers and never echo the request back.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startTestInstallation, type TestInstallation } from '../support/installation.ts';
import { rawHttps, type RawResponse } from '../support/raw-https.ts';

/** A string the answers must never contain: it stands for whatever a client sent. */
const MARKER = 'echo-canary';
const LONG_SEGMENT = `${MARKER}${'a'.repeat(10 * 1024)}`;

function get(path: string, extraHeaders = '', method = 'GET'): string {
  return `${method} ${path} HTTP/1.1\r\nHost: localhost\r\n${extraHeaders}Connection: close\r\n\r\n`;
}

function expectProjectShape(response: RawResponse, status: number): void {
  expect(response.status).toBe(status);
  expect(response.headers['content-type']).toMatch(/^application\/json/);
  const json = JSON.parse(response.body) as Record<string, unknown>;
  expect(json.success).toBe(false);
  expect(typeof json.error).toBe('string');
  expect(Object.keys(json).sort()).toEqual(['error', 'success']);
  expect(response.raw).not.toContain(MARKER);
  // A fixed, short answer: nothing of the request's size comes back.
  expect(response.raw.length).toBeLessThan(1024);
}

describe('errors before a route runs', () => {
  let inst: TestInstallation;
  beforeAll(async () => {
    inst = await startTestInstallation();
  });
  afterAll(() => inst.stop());

  const servers = [
    {
      name: 'web server',
      url: () => inst.platform.webUrl,
      method: 'GET',
      paramRoute: '/api/tasks/',
    },
    {
      name: 'cloak server',
      url: () => inst.platform.cloakUrl,
      method: 'DELETE',
      paramRoute: '/tables/',
    },
  ];

  describe.each(servers)('$name', ({ url, method, paramRoute }) => {
    it('answers a malformed percent-encoding in a path parameter with a 400 in the JSON shape', async () => {
      const response = await rawHttps(
        url(),
        inst.ca,
        get(`${paramRoute}${MARKER}%E0%A4%A`, '', method),
      );
      expectProjectShape(response, 400);
    });

    it('answers a 10 KB path parameter with a 414 that does not echo it', async () => {
      const response = await rawHttps(
        url(),
        inst.ca,
        get(`${paramRoute}${LONG_SEGMENT}`, '', method),
      );
      expectProjectShape(response, 414);
    });

    it('answers an unknown 10 KB path with a 404 that does not echo it', async () => {
      const response = await rawHttps(url(), inst.ca, get(`/nothing/${LONG_SEGMENT}`));
      expectProjectShape(response, 404);
    });

    it('answers oversized headers with a 431 in the JSON shape', async () => {
      const big = `X-Big: ${MARKER}${'b'.repeat(20 * 1024)}\r\n`;
      const response = await rawHttps(url(), inst.ca, get('/', big));
      expectProjectShape(response, 431);
    });

    it('answers a request line that is not HTTP with a 400 in the JSON shape', async () => {
      const response = await rawHttps(url(), inst.ca, `GET /${MARKER} NOT-HTTP\r\n\r\n`);
      expectProjectShape(response, 400);
    });

    it('answers a broken chunked body with a 400 in the JSON shape', async () => {
      const request =
        'POST /bulk_insert HTTP/1.1\r\nHost: localhost\r\nContent-Type: application/json\r\n' +
        `Transfer-Encoding: chunked\r\nConnection: close\r\n\r\nzz-${MARKER}\r\n{}\r\n0\r\n\r\n`;
      const response = await rawHttps(url(), inst.ca, request);
      expectProjectShape(response, 400);
    });
  });
});
