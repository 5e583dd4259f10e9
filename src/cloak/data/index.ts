// Public surface of src/cloak/data: the cloak's store of user tables, rows and lookup tables.
export { requireSync, type CloakDataStore, type LookupReader } from './data-store.ts';
export { openDataStore } from './open-data-store.ts';
export { SqliteDataStore } from './sqlite-data-store.ts';
export { PostgresDataStore } from './postgres-data-store.ts';
export { PostgresPartitionReader } from './postgres-partition-reader.ts';
export type { SqliteDataCore } from './sqlite-data-core.ts';
export type { InsertCounts } from './insert.ts';
export type { ImportFormat, ImportOptions, ImportProgress, ImportResult } from './file-import.ts';
export type { TableInfo } from './table-catalogue.ts';
export type { CellValue, Row, UserData } from './user-stream.ts';
export type { CompiledSqlTask } from './sql-compile.ts';
export type { GroupLimits, SqlUserGroups } from './sql-groups.ts';
