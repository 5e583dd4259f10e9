// Recognises a full disk (SQLite's SQLITE_FULL and write I/O errors, the OS's ENOSPC and EDQUOT).
import { AppError } from './app-error.ts';

/** OS error codes for "no space left": on the device, or in the user's quota. */
const NO_SPACE_CODES = new Set(['ENOSPC', 'EDQUOT']);

/**
 * SQLite's codes for a write that could not be made: SQLITE_FULL, and the extended I/O errors of
 * writing, syncing, growing or truncating a file (what a full disk gives where SQLite cannot tell).
 * Read errors (SQLITE_IOERR_READ, ...) mean something else and stay internal errors.
 */
const SQLITE_WRITE_CODES = new Set([
  'SQLITE_FULL',
  'SQLITE_IOERR_WRITE',
  'SQLITE_IOERR_FSYNC',
  'SQLITE_IOERR_DIR_FSYNC',
  'SQLITE_IOERR_TRUNCATE',
  'SQLITE_IOERR_SHMSIZE',
]);

/** Whether `error` (or the error it wraps as `cause`) says the disk had no room for a write. */
export function isDiskFull(error: unknown): boolean {
  for (let e = error, depth = 0; e && typeof e === 'object' && depth < 5; depth++) {
    const code = (e as { code?: unknown }).code;
    if (typeof code === 'string' && (NO_SPACE_CODES.has(code) || SQLITE_WRITE_CODES.has(code))) {
      return true;
    }
    e = (e as { cause?: unknown }).cause;
  }
  return false;
}

/** The catalogue's DISK_FULL error for `error` if it is one; `what` says what was not written. */
export function diskFullError(error: unknown, what: string): AppError | undefined {
  return isDiskFull(error) ? new AppError('DISK_FULL', { what }) : undefined;
}
