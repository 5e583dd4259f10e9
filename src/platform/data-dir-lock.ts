// One server per data directory: an operating-system lock on <data dir>/server.lock while it runs.
import Database from 'better-sqlite3';
import { mkdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { AppError } from '../errors/index.ts';

/** The locked file: an empty SQLite database, so the lock is SQLite's own (fcntl) file lock. */
const LOCK_FILE = 'server.lock';
/** Who holds the lock, for the message a second process shows; informative only. */
const OWNER_FILE = 'server.pid';

/** The lock's own files, which a data directory has once anything has locked it. */
export function isLockFile(name: string): boolean {
  return name === OWNER_FILE || name.startsWith(LOCK_FILE);
}

export interface DataDirLock {
  /** Lets go of the directory; safe to call more than once. */
  release(): void;
}

interface Owner {
  pid: number;
  started: string;
  command: string;
}

/**
 * Takes the data directory for this process, or throws DATA_DIR_IN_USE naming the process that has
 * it. The operating system drops the lock when its process ends, however it ends (kill -9
 * included), so there is never a stale lock to clean up and no pid to mistake for a reused one.
 * SQLite also keeps two connections of one process apart, so a second start in-process is refused
 * too. `command` says what holds the directory ("server", "restore").
 */
export function lockDataDir(dataDir: string, command: string): DataDirLock {
  mkdirSync(dataDir, { recursive: true, mode: 0o700 });
  const db = new Database(path.join(dataDir, LOCK_FILE), { timeout: 0 });
  try {
    // In exclusive locking mode the write lock taken by BEGIN EXCLUSIVE is kept until close.
    db.pragma('locking_mode = EXCLUSIVE');
    db.exec('BEGIN EXCLUSIVE');
  } catch (error) {
    db.close();
    if ((error as { code?: string }).code !== 'SQLITE_BUSY') throw error;
    const owner = readOwner(dataDir);
    throw new AppError('DATA_DIR_IN_USE', {
      dir: dataDir,
      pid: owner?.pid ?? 'unknown',
      started: owner?.started ?? 'at an unknown time',
    });
  }
  const ownerFile = path.join(dataDir, OWNER_FILE);
  const owner: Owner = { pid: process.pid, started: new Date().toISOString(), command };
  writeFileSync(ownerFile, `${JSON.stringify(owner)}\n`, { mode: 0o600 });
  let held = true;
  return {
    release() {
      if (!held) return;
      held = false;
      rmSync(ownerFile, { force: true });
      db.close();
    },
  };
}

function readOwner(dataDir: string): Owner | undefined {
  try {
    return JSON.parse(readFileSync(path.join(dataDir, OWNER_FILE), 'utf8')) as Owner;
  } catch {
    // Written just after the lock is taken: a start that is that far along has no owner file yet.
    return undefined;
  }
}
