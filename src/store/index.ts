// Public surface of src/store: the SQLite connection helper; it owns no tables of its own.
export {
  describeData,
  openDatabase,
  migrate,
  statementCache,
  type Db,
  type Migration,
} from './sqlite.ts';
export { ReadCache } from './read-cache.ts';
