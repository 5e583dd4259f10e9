// The Dockerfile and compose.yaml hold what docs/operations.md promises; no image is built here (no container runtime).
import { execFile } from 'node:child_process';
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { promisify } from 'node:util';
import { Command } from 'commander';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { parse } from 'yaml';
import { registerStartCommand } from '../../src/cli/commands/start.ts';
import { configSchema } from '../../src/config/schema.ts';
import { startTestInstallation, type TestInstallation } from '../support/installation.ts';

const ROOT = path.resolve(import.meta.dirname, '../..');
const run = promisify(execFile);

interface Instruction {
  keyword: string;
  args: string;
}

/** The Dockerfile's instructions: comments dropped, `\` continuations joined. */
function instructions(text: string): Instruction[] {
  const logical = text
    .split('\n')
    .filter((line) => !line.trimStart().startsWith('#'))
    .join('\n')
    .replace(/\\\n/g, ' ');
  return logical
    .split('\n')
    .map((line) => line.trim())
    .filter(Boolean)
    .map((line) => {
      const [keyword = '', ...rest] = line.split(/\s+/);
      return { keyword: keyword.toUpperCase(), args: rest.join(' ') };
    });
}

/** The instructions of the last stage: what the image runs. */
function finalStage(all: Instruction[]): Instruction[] {
  const lastFrom = all.map((i) => i.keyword).lastIndexOf('FROM');
  return all.slice(lastFrom);
}

/** The long flags `opencloak start` knows. */
function startFlags(): string[] {
  const program = new Command();
  registerStartCommand(program);
  const start = program.commands.find((c) => c.name() === 'start')!;
  return start.options.map((o) => o.long!).filter(Boolean);
}

describe('Dockerfile', () => {
  const all = instructions(readFileSync(path.join(ROOT, 'Dockerfile'), 'utf8'));
  const last = finalStage(all);
  const one = (keyword: string) => last.filter((i) => i.keyword === keyword);

  it('builds on node:20-bookworm-slim in every stage, with a compiler only where addons build', () => {
    const froms = all.filter((i) => i.keyword === 'FROM');
    expect(froms.length).toBeGreaterThanOrEqual(2);
    for (const from of froms) expect(from.args).toMatch(/^node:20-bookworm-slim\b/);
    const buildStage = all.slice(0, all.map((i) => i.keyword).lastIndexOf('FROM'));
    const runs = buildStage.filter((i) => i.keyword === 'RUN').map((i) => i.args);
    expect(runs.join(' ')).toMatch(/apt-get install .*python3.*make.*g\+\+/);
    expect(runs.join(' ')).toContain('npm ci');
    expect(
      last
        .filter((i) => i.keyword === 'RUN')
        .map((i) => i.args)
        .join(' '),
    ).not.toMatch(/g\+\+|build-essential/);
  });

  it('runs as a user of its own, never root, with the data directory on a volume', () => {
    const users = one('USER');
    expect(users).toHaveLength(1);
    expect(users[0]!.args).not.toMatch(/^(root|0)(:|$)/);
    expect(
      one('VOLUME')
        .map((i) => i.args)
        .join(' '),
    ).toContain('/data');
    expect(
      one('ENV')
        .map((i) => i.args)
        .join(' '),
    ).toContain('OPENCLOAK_DATA_DIR=/data');
  });

  it('starts with --no-node-snapshot, stops with SIGTERM, and checks /healthz', () => {
    const entrypoint = JSON.parse(one('ENTRYPOINT')[0]!.args) as string[];
    expect(entrypoint.slice(0, 3)).toEqual(['node', '--no-node-snapshot', 'bin/opencloak.mjs']);
    const cmd = JSON.parse(one('CMD')[0]!.args) as string[];
    expect(cmd[0]).toBe('start');
    for (const flag of cmd.filter((a) => a.startsWith('--'))) expect(startFlags()).toContain(flag);
    expect(one('STOPSIGNAL')[0]?.args).toBe('SIGTERM');
    const healthcheck = one('HEALTHCHECK')[0]!.args;
    expect(healthcheck).toContain('scripts/healthcheck.mjs');
    expect(healthcheck).toContain('/healthz');
    expect(one('EXPOSE')[0]!.args.split(/\s+/)).toEqual(expect.arrayContaining(['8443', '8444']));
  });
});

describe('compose.yaml', () => {
  // eslint-disable-next-line @typescript-eslint/no-explicit-any
  const compose = parse(readFileSync(path.join(ROOT, 'compose.yaml'), 'utf8')) as any;
  const text = readFileSync(path.join(ROOT, 'compose.yaml'), 'utf8');

  it('runs the platform beside PostgreSQL and Redis, each checked for health', () => {
    expect(Object.keys(compose.services).sort()).toEqual(['opencloak', 'postgres', 'redis']);
    expect(compose.services.postgres.healthcheck.test).toContain('pg_isready');
    expect(compose.services.redis.healthcheck.test).toContain('redis-cli');
    expect(compose.services.opencloak.depends_on.postgres.condition).toBe('service_healthy');
  });

  it('starts the platform with flags it knows, its data on a volume, metrics unpublished', () => {
    const platform = compose.services.opencloak;
    expect(platform.command[0]).toBe('start');
    const flags = (platform.command as string[]).filter((a) => a.startsWith('--'));
    for (const flag of flags) expect(startFlags()).toContain(flag);
    expect(platform.volumes).toContain('opencloak-data:/data');
    expect((platform.ports as string[]).some((p) => p.includes('9464'))).toBe(false);
  });

  it('leaves runs time to drain before a kill, and holds no secret', () => {
    const grace = Number(/^(\d+)s$/.exec(compose.services.opencloak.stop_grace_period)![1]);
    const drain = configSchema.parse({}).shutdown.drainSeconds;
    expect(grace).toBeGreaterThan(drain);
    // Passwords come from the environment, and must be set: ${NAME:?message}.
    expect(compose.services.postgres.environment.POSTGRES_PASSWORD).toMatch(/^\$\{\w+:\?/);
    expect(compose.services.opencloak.environment.OPENCLOAK_CA_PASSPHRASE).toMatch(/^\$\{\w+:\?/);
  });

  it('marks where server mode will name its store', () => {
    expect(text).toMatch(/# server mode: - --store/);
    expect(text).toMatch(/# server mode: - postgres:\/\//);
  });
});

describe('scripts/healthcheck.mjs (the HEALTHCHECK)', () => {
  let inst: TestInstallation;
  beforeAll(async () => {
    inst = await startTestInstallation();
  }, 60_000);
  afterAll(() => inst?.stop());

  const check = (port: string) =>
    run(process.execPath, [path.join(ROOT, 'scripts/healthcheck.mjs'), '/healthz'], {
      env: { ...process.env, OPENCLOAK_DATA_DIR: inst.dataDir, OPENCLOAK_HEALTH_PORT: port },
    }).then(
      () => 0,
      (error: { code?: number }) => error.code ?? -1,
    );

  it('passes against a running server, verifying its certificate with the installation CA', async () => {
    expect(await check(new URL(inst.platform.webUrl).port)).toBe(0);
  });

  it('fails where nothing answers', async () => {
    expect(await check('9')).toBe(1);
  });
});
