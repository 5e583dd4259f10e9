// Builds the one frozen configuration object from defaults, an optional JSON file and overrides.
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { configSchema, type ConfigInput, type OpenCloakConfig } from './schema.ts';

export class ConfigError extends Error {
  override name = 'ConfigError';
}

/**
 * Validates once at start-up; every problem names the setting (e.g. `web.port`), so an operator
 * can fix the file without reading code.
 */
export function buildConfig(input: unknown): Readonly<OpenCloakConfig> {
  const parsed = configSchema.safeParse(input ?? {});
  if (!parsed.success) {
    const problems = parsed.error.issues.map((issue) => {
      const where = issue.path.length > 0 ? issue.path.join('.') : '(top level)';
      return `  - ${where}: ${issue.message}`;
    });
    throw new ConfigError(`Invalid configuration:\n${problems.join('\n')}`);
  }
  const config = parsed.data;
  config.dataDir = path.resolve(config.dataDir);
  return deepFreeze(config);
}

/** Reads a JSON config file (if given), then applies overrides such as command-line flags. */
export function loadConfig(
  file: string | undefined,
  overrides: ConfigInput = {},
): Readonly<OpenCloakConfig> {
  let fromFile: Record<string, unknown> = {};
  if (file !== undefined) {
    try {
      fromFile = JSON.parse(readFileSync(file, 'utf8')) as Record<string, unknown>;
    } catch (error) {
      throw new ConfigError(`Cannot read configuration file ${file}: ${(error as Error).message}`);
    }
  }
  return buildConfig(mergeDeep(fromFile, overrides as Record<string, unknown>));
}

function mergeDeep(base: Record<string, unknown>, top: Record<string, unknown>) {
  const out: Record<string, unknown> = { ...base };
  for (const [key, value] of Object.entries(top)) {
    if (value === undefined) continue;
    const current = out[key];
    out[key] = isPlainObject(current) && isPlainObject(value) ? mergeDeep(current, value) : value;
  }
  return out;
}

function isPlainObject(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

function deepFreeze<T>(value: T): T {
  if (typeof value === 'object' && value !== null) {
    for (const inner of Object.values(value)) deepFreeze(inner);
    Object.freeze(value);
  }
  return value;
}
