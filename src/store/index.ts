// Public surface of src/store: the SQL seam (SQLite and PostgreSQL), the migration runner and the
// SQLite connection helper; it owns no tables of its own.
export {
  describeData,
  openDatabase,
  migrate,
  statementCache,
  type Db,
  type Migration,
} from './sqlite.ts';
export { ReadCache } from './read-cache.ts';
export {
  numberPlaceholders,
  openPostgresDb,
  openSqlDb,
  openSqliteDb,
  POSTGRES_TYPES,
  sqliteSqlDb,
  type Dialect,
  type PostgresOptions,
  type SqlDb,
  type SqlExecutor,
  type SqliteSqlDb,
  type SqlRunResult,
  type SqlValue,
} from './sql-db.ts';
export {
  appliedVersions,
  runMigrations,
  type MigrationOptions,
  type MigrationStep,
} from './migrations.ts';
