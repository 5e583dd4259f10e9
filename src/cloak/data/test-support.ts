// Test helpers for the data store: a fresh cloak.db in a temporary directory, removed afterwards.
import Database from 'better-sqlite3';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { setFlagsFromString } from 'node:v8';
import { runInNewContext } from 'node:vm';
import { AppError, type ErrorCode } from '../../errors/index.ts';
import { CloakDataStore } from './data-store.ts';

export interface TestStore {
  store: CloakDataStore;
  db: Database.Database;
  file: string;
  /** Opens the same file again, as a restarted process would. */
  reopen(): CloakDataStore;
  close(): void;
}

export function openTestStore(): TestStore {
  const dir = mkdtempSync(path.join(tmpdir(), 'opencloak-data-'));
  const file = path.join(dir, 'cloak.db');
  const connections: Database.Database[] = [];
  const open = () => {
    const db = new Database(file);
    connections.push(db);
    return db;
  };
  const db = open();
  return {
    store: new CloakDataStore(db),
    db,
    file,
    reopen: () => new CloakDataStore(open()),
    close: () => {
      for (const c of connections) if (c.open) c.close();
      rmSync(dir, { recursive: true, force: true });
    },
  };
}

/** Runs `action` and returns the AppError it throws, failing if it throws nothing or something else. */
export function appError(action: () => unknown, code?: ErrorCode): AppError {
  try {
    action();
  } catch (error) {
    if (!(error instanceof AppError)) throw error;
    if (code !== undefined && error.code !== code) {
      throw new Error(`expected ${code}, got ${error.code}: ${error.message}`);
    }
    return error;
  }
  throw new Error(`expected an AppError${code ? ` ${code}` : ''}, but nothing was thrown`);
}

/** V8's full garbage collection, for memory tests: what remains after it is what the code holds. */
export function exposedGc(): () => void {
  setFlagsFromString('--expose-gc');
  return runInNewContext('gc') as () => void;
}
