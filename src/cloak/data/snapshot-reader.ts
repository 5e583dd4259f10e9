// Reads from one consistent snapshot of cloak.db, on a connection of its own, in bounded memory.
import Database from 'better-sqlite3';

/** Runs a query in the snapshot and iterates its rows as arrays. */
export type RowReader = (sql: string, params: readonly unknown[]) => Iterable<unknown[]>;

/**
 * The task runner yields to the event loop while it reads, and meanwhile uploads and lookup()
 * calls use the main connection, which better-sqlite3 would refuse while one of its statements is
 * being iterated. WAL lets a second, read-only connection keep one snapshot (catalogue and rows
 * alike) for the whole read while writers carry on, so SQL that `read` builds from the catalogue
 * there matches the rows it reads. An in-memory database cannot be opened twice; all of it is in
 * memory already, so its rows are read at once.
 */
export function* readInSnapshot<T>(
  main: Database.Database,
  read: (reader: Database.Database, rows: RowReader) => Iterable<T>,
): Generator<T, void, undefined> {
  const separate = !main.memory;
  const reader = separate ? new Database(main.name, { readonly: true, fileMustExist: true }) : main;
  const rows: RowReader = (sql, params) => {
    const statement = reader.prepare(sql).raw(true);
    return (separate ? statement.iterate(...params) : statement.all(...params)) as Iterable<
      unknown[]
    >;
  };
  try {
    if (separate) {
      reader.pragma('busy_timeout = 5000');
      reader.exec('BEGIN');
    }
    yield* read(reader, rows);
  } finally {
    // Closing ends the read transaction; the statement iterator was already closed by the for-of.
    if (separate) reader.close();
  }
}
