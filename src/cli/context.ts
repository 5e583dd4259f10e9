// Shared plumbing for CLI commands: configuration from global flags, platform access, output.
import type { Command } from 'commander';
import { existsSync } from 'node:fs';
import path from 'node:path';
import type { OpenCloakConfig } from '../config/index.ts';
import { AppError } from '../errors/index.ts';
import type { OpenedPlatform } from '../platform/index.ts';

export interface GlobalOptions {
  dataDir?: string;
  config?: string;
  /** One address for every store; the air's stores follow it too where they support it. */
  store?: string;
}

export async function configFrom(command: Command): Promise<Readonly<OpenCloakConfig>> {
  const globals = command.optsWithGlobals() as GlobalOptions;
  const { loadConfig } = await import('../config/index.ts');
  return loadConfig(globals.config, {
    ...(globals.dataDir !== undefined ? { dataDir: globals.dataDir } : {}),
    cloak: cloakStore(globals),
  });
}

/**
 * `--store` (or OPENCLOAK_STORE) as `cloak.store`, for commands that build their own overrides
 * (`start`, `worker`); loadConfig merges it with their other `cloak` settings.
 */
export function cloakStore(globals: GlobalOptions): { store?: string } {
  return globals.store !== undefined ? { store: globals.store } : {};
}

/**
 * Commands that only read. On a data directory without an installation they refuse: opening it
 * would create one (a new CA, noise secret and empty stores), and a mistyped --data-dir, or the
 * command run from another directory, then answered "(none)" as if all were well.
 */
const READ_ONLY_COMMANDS = new Set(['list', 'results', 'audit', 'budget']);

/** An installation's own CA certificate: every data directory `start` has opened holds one. */
function hasInstallation(dataDir: string): boolean {
  return existsSync(path.join(dataDir, 'pki', 'ca.crt'));
}

/** Opens the data directory for one command and always closes it again. */
export async function withPlatform<T>(
  command: Command,
  action: (platform: OpenedPlatform) => T | Promise<T>,
  /** A command that runs a task starts a sandbox process while the platform opens. */
  options: { runsTask?: boolean } = {},
): Promise<T> {
  const config = await configFrom(command);
  const dataDir = path.resolve(config.dataDir);
  const created = !hasInstallation(dataDir);
  if (created && READ_ONLY_COMMANDS.has(command.name())) {
    throw new AppError('INVALID_PARAMETER', {
      detail:
        `There is no OpenCloak installation in ${dataDir} (no pki/ca.crt there). Give the ` +
        `--data-dir of an existing one, or start one there with \`opencloak --data-dir ` +
        `${dataDir} start\` (\`npm start\` uses ./data).`,
    });
  }
  // Node's start-up of the run's first sandbox process (about a fifth of a second) then happens
  // beside the platform's loading and opening, not after them.
  const spare = options.runsTask ? await import('../platform/spare-sandbox.ts') : undefined;
  spare?.startSpareSandbox(config.sandbox.niceness);
  try {
    return await openAndRun(config, dataDir, created, action);
  } finally {
    // Not taken by a run (the command failed first): ended rather than left to the exit.
    await spare?.endSpareSandbox();
  }
}

async function openAndRun<T>(
  config: Readonly<OpenCloakConfig>,
  dataDir: string,
  created: boolean,
  action: (platform: OpenedPlatform) => T | Promise<T>,
): Promise<T> {
  const { openPlatform } = await import('../platform/open-platform.ts');
  const platform = await openPlatform(config);
  // Not silently: a new installation where the user expected theirs is a mistyped --data-dir.
  if (created) {
    printNote(
      `Created a new installation in ${dataDir} (its own CA and noise secret). If you meant an ` +
        `existing one, give its --data-dir.`,
    );
  }
  try {
    return await action(platform);
  } finally {
    await platform.close();
  }
}

export async function resolveOrg(platform: OpenedPlatform, idOrName: string) {
  const org = await platform.air.organisations.resolve(idOrName);
  if (!org) {
    const known = (await platform.air.organisations.list()).map((o) => o.name);
    throw new AppError('INVALID_PARAMETER', {
      detail: `There is no organisation "${idOrName}" (known: ${known.join(', ') || 'none'}). Create it with \`opencloak org create <name>\`.`,
    });
  }
  return org;
}

/**
 * A task by id, token or name (docs/tasks.md runs `task run spend`), as its token: ids and tokens
 * win, so a name never hides another task. Unknown: TASK_NOT_FOUND, which names `task list`.
 */
export async function taskRef(
  platform: OpenedPlatform,
  orgId: string,
  ref: string,
): Promise<string> {
  const tasks = platform.air.tasks;
  const task = (await tasks.byIdOrToken(orgId, ref)) ?? (await tasks.byName(orgId, ref));
  if (!task) throw new AppError('TASK_NOT_FOUND', { task: ref });
  return task.token;
}

/**
 * A line for people under a command's answer: on stderr, so that with --json stdout stays one
 * JSON document that scripts can parse, while a terminal shows it right below the answer.
 */
export function printNote(text: string): void {
  process.stderr.write(`${text}\n`);
}
