// The few places the air stores' SQL differs by dialect: case-insensitive matching and unique-key errors.
import type { Dialect } from '../../store/index.ts';

/**
 * `column = ?` ignoring ASCII case. SQLite's columns say `COLLATE NOCASE`, so the plain comparison
 * uses their unique index; PostgreSQL's unique index is on `lower(column)`, so both sides are lowered.
 */
export function equalsIgnoringCase(dialect: Dialect, column: string): string {
  return dialect === 'postgres' ? `lower(${column}) = lower(?)` : `${column} = ?`;
}

/**
 * A write refused by a unique constraint: another server (or request) inserted the same name
 * between the check and the insert. Callers turn it into their clear AppError.
 */
export function isUniqueViolation(error: unknown): boolean {
  const code = (error as { code?: unknown } | null)?.code;
  // 23505 is PostgreSQL's unique_violation; better-sqlite3 names SQLite's extended result codes.
  return code === '23505' || code === 'SQLITE_CONSTRAINT_UNIQUE';
}
