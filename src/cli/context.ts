// Shared plumbing for CLI commands: configuration from global flags, platform access, output.
import type { Command } from 'commander';
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

/** Opens the data directory for one command and always closes it again. */
export async function withPlatform<T>(
  command: Command,
  action: (platform: OpenedPlatform) => T | Promise<T>,
): Promise<T> {
  const config = await configFrom(command);
  const { openPlatform } = await import('../platform/open-platform.ts');
  const platform = await openPlatform(config);
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
