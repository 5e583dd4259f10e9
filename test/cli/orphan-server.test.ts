// The `opencloak` command leaves no orphan: killing it (even with SIGKILL) stops the server it runs,
// and the signals a terminal or a service manager sends reach the server.
import { mkdtempSync, rmSync } from 'node:fs';
import net from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { exited, startServerProcess } from '../support/server-process.ts';

/**
 * How long the server may take to notice that the command is gone and close its ports: a guard
 * against an orphan that never stops, not a measurement (it takes about a second on a quiet
 * machine, many more on a busy one).
 */
const CLOSE_WITHIN_MS = 50_000;

describe('the opencloak command and its server', () => {
  const dir = mkdtempSync(path.join(os.tmpdir(), 'opencloak-orphan-'));
  afterAll(() => rmSync(dir, { recursive: true, force: true }));

  it('stops the server when the command is killed with SIGKILL', async () => {
    const server = await startServerProcess(path.join(dir, 'kill9'));
    const port = Number(new URL(server.cloakUrl).port);
    expect(await accepts(port)).toBe(true);
    server.child.kill('SIGKILL');
    await exited(server.child);
    const closed = await closesWithin(port, CLOSE_WITHIN_MS);
    expect(closed, `port ${port} still open ${CLOSE_WITHIN_MS} ms after kill -9`).toBe(true);
  }, 120_000);

  it.each(['SIGHUP', 'SIGTERM', 'SIGINT'] as const)(
    'forwards %s to the server, which stops and closes its ports',
    async (signal) => {
      const server = await startServerProcess(path.join(dir, signal));
      const port = Number(new URL(server.cloakUrl).port);
      const done = exited(server.child);
      server.child.kill(signal);
      await done;
      expect(await closesWithin(port, CLOSE_WITHIN_MS)).toBe(true);
    },
    120_000,
  );
});

function accepts(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const socket = net.connect({ host: '127.0.0.1', port });
    socket.once('connect', () => {
      socket.destroy();
      resolve(true);
    });
    socket.once('error', () => resolve(false));
  });
}

async function closesWithin(port: number, ms: number): Promise<boolean> {
  const deadline = Date.now() + ms;
  while (Date.now() < deadline) {
    if (!(await accepts(port))) return true;
    await new Promise((r) => setTimeout(r, 100));
  }
  return false;
}
