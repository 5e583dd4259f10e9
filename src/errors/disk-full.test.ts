// A full disk is recognised from SQLite's and the OS's codes, also when wrapped; other errors are not.
import { describe, expect, it } from 'vitest';
import { diskFullError, isDiskFull } from './disk-full.ts';

const withCode = (code: string) => Object.assign(new Error(code), { code });

describe('isDiskFull', () => {
  it.each(['SQLITE_FULL', 'SQLITE_IOERR_WRITE', 'SQLITE_IOERR_FSYNC', 'ENOSPC', 'EDQUOT'])(
    'recognises %s',
    (code) => expect(isDiskFull(withCode(code))).toBe(true),
  );

  it.each(['SQLITE_IOERR_READ', 'SQLITE_CORRUPT', 'SQLITE_BUSY', 'EACCES', 'ENOENT'])(
    'does not take %s for a full disk',
    (code) => expect(isDiskFull(withCode(code))).toBe(false),
  );

  it('looks through a wrapping error to its cause', () => {
    const wrapped = new Error('import failed', { cause: withCode('SQLITE_FULL') });
    expect(isDiskFull(wrapped)).toBe(true);
  });

  it('ignores values that are not errors', () => {
    for (const value of [undefined, null, 'SQLITE_FULL', 28]) expect(isDiskFull(value)).toBe(false);
  });
});

describe('diskFullError', () => {
  it("makes the catalogue's 507 with what was not written", () => {
    const error = diskFullError(withCode('ENOSPC'), 'the upload was not stored.');
    expect(error?.status).toBe(507);
    expect(error?.message).toMatch(/^The server's disk is full: the upload was not stored\. /);
    expect(diskFullError(withCode('EACCES'), 'x')).toBeUndefined();
  });
});
