// The access log: one line per answer, errors always, successes sampled, nothing when off.
import Fastify from 'fastify';
import { describe, expect, it } from 'vitest';
import { AccessLog, type AccessLogOptions } from './access-log.ts';

/** A server whose log lines land in a list, answering 200 on /ok?secret=1 and 404 elsewhere. */
async function served(options: AccessLogOptions, requests: string[]) {
  const lines: Array<Record<string, unknown>> = [];
  const stream = { write: (line: string) => lines.push(JSON.parse(line)) };
  const app = Fastify({ logger: { level: 'info', stream }, logController: new AccessLog(options) });
  app.get('/ok', async () => ({ success: true }));
  for (const url of requests) await app.inject({ method: 'GET', url });
  await app.close();
  return lines.filter((line) => line.msg === 'request');
}

describe('access log', () => {
  it('writes one line per request with method, path without its query, status and time', async () => {
    const lines = await served({ mode: 'all', sample: 1 }, ['/ok?secret=1', '/missing']);
    expect(lines).toEqual([
      expect.objectContaining({ method: 'GET', path: '/ok', status: 200, level: 30 }),
      expect.objectContaining({ method: 'GET', path: '/missing', status: 404, level: 40 }),
    ]);
    expect(typeof lines[0]!.ms).toBe('number');
    expect(JSON.stringify(lines)).not.toContain('secret');
  });

  it('keeps the sampled share of successes and every error', async () => {
    const draws = [0.05, 0.5, 0.09, 0.95];
    const random = () => draws.shift() ?? 1;
    const requests = ['/ok', '/ok', '/missing', '/ok', '/ok'];
    const lines = await served({ mode: 'all', sample: 0.1, random }, requests);
    // Draws 0.05 and 0.09 fall under 0.1; the 404 is logged without a draw.
    expect(lines.map((line) => line.status)).toEqual([200, 404, 200]);
  });

  it('logs only errors in mode errors, and nothing in mode off', async () => {
    const requests = ['/ok', '/missing', '/ok'];
    const errors = await served({ mode: 'errors', sample: 1 }, requests);
    expect(errors.map((line) => line.status)).toEqual([404]);
    expect(await served({ mode: 'off', sample: 1 }, requests)).toEqual([]);
  });
});
