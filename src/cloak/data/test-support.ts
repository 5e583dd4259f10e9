// Test helpers for the data store: a fresh cloak.db in a temporary directory, removed afterwards.
import type Database from 'better-sqlite3';
import { execFile } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import { setFlagsFromString } from 'node:v8';
import { runInNewContext } from 'node:vm';
import { AppError, type ErrorCode } from '../../errors/index.ts';
import { openSqliteDb, type SqliteSqlDb } from '../../store/index.ts';
import type { SqliteDataCore } from './sqlite-data-core.ts';
import { SqliteDataStore } from './sqlite-data-store.ts';

export interface TestStore {
  /** The SQLite store's synchronous core: these tests check SQLite's own behaviour and plans. */
  store: SqliteDataCore;
  /** The same store behind the async CloakDataStore interface. */
  data: SqliteDataStore;
  db: Database.Database;
  file: string;
  /** Opens the same file again, as a restarted process would. */
  reopen(): Promise<SqliteDataCore>;
  close(): void;
}

export async function openTestStore(): Promise<TestStore> {
  const dir = mkdtempSync(path.join(tmpdir(), 'opencloak-data-'));
  const file = path.join(dir, 'cloak.db');
  const connections: SqliteSqlDb[] = [];
  const open = async () => {
    const db = openSqliteDb(file);
    connections.push(db);
    return SqliteDataStore.open(db);
  };
  const data = await open();
  return {
    store: data.sync,
    data,
    db: connections[0]!.raw,
    file,
    reopen: async () => (await open()).sync,
    close: () => {
      for (const c of connections) if (c.raw.open) c.raw.close();
      rmSync(dir, { recursive: true, force: true });
    },
  };
}

/** Runs `action` and returns the AppError it throws, failing if it throws nothing or something else. */
export function appError(action: () => unknown, code?: ErrorCode): AppError {
  try {
    action();
  } catch (error) {
    return checkAppError(error, code);
  }
  throw new Error(`expected an AppError${code ? ` ${code}` : ''}, but nothing was thrown`);
}

/** The same for an async action: the AppError it rejects with. */
export async function appErrorOf(
  action: () => Promise<unknown>,
  code?: ErrorCode,
): Promise<AppError> {
  try {
    await action();
  } catch (error) {
    return checkAppError(error, code);
  }
  throw new Error(`expected an AppError${code ? ` ${code}` : ''}, but nothing was thrown`);
}

function checkAppError(error: unknown, code: ErrorCode | undefined): AppError {
  if (!(error instanceof AppError)) throw error;
  if (code !== undefined && error.code !== code) {
    throw new Error(`expected ${code}, got ${error.code}: ${error.message}`);
  }
  return error;
}

/** V8's full garbage collection, for memory tests: what remains after it is what the code holds. */
export function exposedGc(): () => void {
  setFlagsFromString('--expose-gc');
  return runInNewContext('gc') as () => void;
}

/**
 * Runs a TypeScript script in a Node process of its own, with the collector exposed, and returns
 * the JSON of the last line it printed. For memory measurements: a test worker shares its heap
 * and its allocator with the files that ran before (isolate: false), and they showed in readings.
 */
export async function measureInChild<T>(script: URL, args: string[] = []): Promise<T> {
  const { stdout } = await promisify(execFile)(
    process.execPath,
    [
      '--no-node-snapshot',
      '--expose-gc',
      '--import',
      import.meta.resolve('tsx'),
      fileURLToPath(script),
      ...args,
    ],
    { maxBuffer: 1024 * 1024 },
  );
  return JSON.parse(stdout.trim().split('\n').at(-1)!) as T;
}
