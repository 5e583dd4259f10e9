// Backups of a data directory: both databases as consistent snapshots, the CA and the noise secret.
import Database from 'better-sqlite3';
import { createHash } from 'node:crypto';
import {
  chmodSync,
  copyFileSync,
  existsSync,
  mkdirSync,
  readdirSync,
  readFileSync,
  rmSync,
  statSync,
  writeFileSync,
} from 'node:fs';
import path from 'node:path';
import { noiseSecretPath } from '../cloak/index.ts';
import { AppError } from '../errors/index.ts';
import { isLockFile, lockDataDir } from './data-dir-lock.ts';

export const BACKUP_FORMAT = 'opencloak-backup';
export const BACKUP_VERSION = 1;
const MANIFEST = 'manifest.json';
/** The two databases, copied with SQLite's online backup so that writers may go on meanwhile. */
const DATABASES = ['air.db', 'cloak.db'] as const;
/** The CA and server certificate, and the noise secret: copied file by file, modes kept. */
const DIRECTORIES = ['pki', 'secrets'] as const;
/** Files SQLite keeps beside a database while it is open; stale ones must not survive a restore. */
const DATABASE_SIDE_FILES = ['-wal', '-shm', '-journal'] as const;
/** sqlite3_backup_step's page count for "all of it", the largest better-sqlite3 passes on. */
const ALL_PAGES = 0x7fffffff;

export interface BackupEntry {
  path: string;
  kind: 'file' | 'directory';
  /** Permission bits, e.g. 0o600 for the noise secret. */
  mode: number;
  bytes?: number;
  sha256?: string;
}

export interface BackupManifest {
  format: typeof BACKUP_FORMAT;
  version: typeof BACKUP_VERSION;
  created: string;
  source: string;
  files: BackupEntry[];
}

/**
 * Writes a backup of `dataDir` into `target` (new or empty). Each database is copied in one
 * backup step inside a read transaction opened on both before either is copied: a consistent
 * snapshot of each, taken at nearly the same moment, while a running server goes on writing (WAL).
 * The manifest is written last, so a backup without one is incomplete.
 */
export async function backupDataDir(dataDir: string, target: string): Promise<BackupManifest> {
  for (const db of DATABASES) {
    if (!existsSync(path.join(dataDir, db))) {
      throw new AppError('INVALID_PARAMETER', {
        detail: `${dataDir} holds no OpenCloak installation (there is no ${db}). Give the data directory with --data-dir.`,
      });
    }
  }
  if (!existsSync(noiseSecretPath(dataDir))) {
    throw new AppError('NOISE_SECRET_MISSING', {
      found: `${DATABASES.join(' and ')}`,
      file: noiseSecretPath(dataDir),
    });
  }
  if (existsSync(target) && readdirSync(target).length > 0) {
    throw new AppError('BACKUP_TARGET_NOT_EMPTY', { dir: target });
  }
  mkdirSync(target, { recursive: true, mode: 0o700 });

  const sources = DATABASES.map(
    (name) => new Database(path.join(dataDir, name), { fileMustExist: true, timeout: 5000 }),
  );
  try {
    // A read transaction pins each snapshot; the backup step then reads within it.
    for (const db of sources) {
      db.exec('BEGIN');
      db.prepare('SELECT count(*) FROM sqlite_schema').get();
    }
    for (const [i, db] of sources.entries()) {
      const file = path.join(target, DATABASES[i]!);
      await db.backup(file, { progress: () => ALL_PAGES });
      chmodSync(file, 0o600);
    }
  } finally {
    for (const db of sources) db.close();
  }
  for (const dir of DIRECTORIES) copyTree(path.join(dataDir, dir), path.join(target, dir));

  const manifest: BackupManifest = {
    format: BACKUP_FORMAT,
    version: BACKUP_VERSION,
    created: new Date().toISOString(),
    source: dataDir,
    files: [...DATABASES, ...DIRECTORIES].flatMap((name) => describeTree(target, name)),
  };
  writeFileSync(path.join(target, MANIFEST), `${JSON.stringify(manifest, null, 2)}\n`, {
    mode: 0o600,
  });
  return manifest;
}

export interface RestoreOptions {
  /** Replace the installation already in the data directory. */
  force?: boolean;
}

/**
 * Restores a backup into `dataDir`, checking every file against the manifest first. Holds the
 * data directory's lock meanwhile, so it refuses while a server runs there and no server starts
 * on a half-restored directory.
 */
export function restoreDataDir(
  source: string,
  dataDir: string,
  options: RestoreOptions = {},
): BackupManifest {
  const manifest = readManifest(source);
  const lock = lockDataDir(dataDir, 'restore');
  try {
    const present = readdirSync(dataDir)
      .filter((name) => !isLockFile(name))
      .sort();
    if (present.length > 0 && !options.force) {
      throw new AppError('RESTORE_TARGET_NOT_EMPTY', { dir: dataDir, found: present.join(', ') });
    }
    // --force replaces the installation; files of other programs stay where they are.
    for (const name of installationEntries(dataDir)) {
      rmSync(path.join(dataDir, name), { recursive: true, force: true });
    }
    for (const entry of manifest.files) {
      const to = path.join(dataDir, entry.path);
      if (entry.kind === 'directory') mkdirSync(to, { recursive: true, mode: entry.mode });
      else copyFileSync(path.join(source, entry.path), to);
      chmodSync(to, entry.mode);
    }
  } finally {
    lock.release();
  }
  return manifest;
}

/** The manifest of a whole, unaltered backup; BACKUP_INVALID says what is wrong otherwise. */
export function readManifest(source: string): BackupManifest {
  const invalid = (detail: string) => new AppError('BACKUP_INVALID', { dir: source, detail });
  let manifest: BackupManifest;
  try {
    manifest = JSON.parse(readFileSync(path.join(source, MANIFEST), 'utf8')) as BackupManifest;
  } catch (error) {
    throw invalid(`${MANIFEST} cannot be read: ${(error as Error).message}`);
  }
  if (manifest.format !== BACKUP_FORMAT || manifest.version !== BACKUP_VERSION) {
    throw invalid(`${MANIFEST} is not version ${BACKUP_VERSION} of ${BACKUP_FORMAT}`);
  }
  const required = [...DATABASES, 'secrets/noise.key'];
  for (const name of required) {
    if (!manifest.files.some((f) => f.path === name)) throw invalid(`it has no ${name}`);
  }
  for (const entry of manifest.files) {
    const file = path.join(source, entry.path);
    if (entry.path.split('/').includes('..') || path.isAbsolute(entry.path)) {
      throw invalid(`${entry.path} lies outside the backup`);
    }
    if (entry.kind === 'directory') continue;
    if (!existsSync(file)) throw invalid(`${entry.path} is missing`);
    if (sha256(file) !== entry.sha256) throw invalid(`${entry.path} has changed since the backup`);
  }
  return manifest;
}

/** What of an installation `dataDir` already holds (databases, their side files, pki/, secrets/). */
function installationEntries(dataDir: string): string[] {
  const names = [
    ...DATABASES.flatMap((db) => [db, ...DATABASE_SIDE_FILES.map((side) => `${db}${side}`)]),
    ...DIRECTORIES,
  ];
  return names.filter((name) => existsSync(path.join(dataDir, name)));
}

function copyTree(from: string, to: string): void {
  const stat = statSync(from);
  if (stat.isDirectory()) {
    mkdirSync(to, { mode: stat.mode & 0o777 });
    chmodSync(to, stat.mode & 0o777);
    for (const name of readdirSync(from).sort())
      copyTree(path.join(from, name), path.join(to, name));
  } else {
    copyFileSync(from, to);
    chmodSync(to, stat.mode & 0o777);
  }
}

/** The manifest entries of one file or directory tree, directories before what they hold. */
function describeTree(root: string, name: string): BackupEntry[] {
  const file = path.join(root, name);
  const stat = statSync(file);
  const mode = stat.mode & 0o777;
  if (!stat.isDirectory()) {
    return [{ path: name, kind: 'file', mode, bytes: stat.size, sha256: sha256(file) }];
  }
  return [
    { path: name, kind: 'directory', mode },
    ...readdirSync(file)
      .sort()
      .flatMap((child) => describeTree(root, `${name}/${child}`)),
  ];
}

function sha256(file: string): string {
  return createHash('sha256').update(readFileSync(file)).digest('hex');
}
