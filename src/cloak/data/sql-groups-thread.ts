// Reads a sql task's per-user groups in a worker thread (sql-groups-worker.mjs) while the run uses them: the store's half of the work beside the rest.
import type Database from 'better-sqlite3';
import path from 'node:path';
import { Worker } from 'node:worker_threads';
import { installRoot } from '../../shared/index.ts';
import type { SqlTaskQuery } from '../sql-task/sql-task-model.ts';
import type { GroupLimits, SqlGroupsOutcome, SqlUserGroups } from './group-collector.mjs';
import { quoteIdentifier } from './names.ts';
import { compileSqlTask, type CompiledSqlTask } from './sql-compile.ts';
import {
  GROUP_ROWS_FLAVOR,
  inBatches,
  SQL_GROUP_BATCH,
  sqlScope,
  streamSqlGroups,
} from './sql-groups.ts';
import { physicalTableName } from './table-catalogue.ts';

const WORKER_ENTRY = path.join(installRoot(), 'src/cloak/data/sql-groups-worker.mjs');

/**
 * Rows of the first table from which a thread is used. Handing a read over costs a few
 * milliseconds (a connection, the messages; the thread's start, about 60 ms of CPU, only the
 * first time); below this many rows the whole query takes about as long.
 */
export const THREAD_MIN_ROWS = 20_000;

/** Batches the thread may have sent and the run not yet taken: memory bounded by a few batches. */
const BATCHES_AHEAD = 4;

/**
 * What the compiler read of the organisation, as one row: its tables (id, name, columns, version)
 * and lookup tables (id, name). The thread's snapshot must show the same, or the SQL and its
 * formats could disagree with the tables it reads.
 */
const CATALOGUE_DIGEST_SQL =
  'SELECT (SELECT json_group_array(json_array(id, name, columns, version)) FROM ' +
  '(SELECT id, name, columns, version FROM data_tables WHERE org_id = ? ORDER BY id)), ' +
  '(SELECT json_group_array(json_array(id, name)) FROM ' +
  '(SELECT id, name FROM data_lookup_tables WHERE org_id = ? ORDER BY id))';

export interface ThreadOptions {
  /** Tests: use the thread whatever the size (0), or never (Infinity). */
  minRows?: number;
  /** Tests: the digest the thread is told to expect, to show what a stale catalogue does. */
  expectedDigest?: string;
}

/** Threads that have finished a read and wait for the next one (unreferenced meanwhile). */
const idle: Worker[] = [];
/** Idle threads kept: as many as reads usually run at once on two cores. */
const MAX_IDLE = 2;
let liveThreads = 0;

/** Threads alive and idle, for tests: a stopped run's thread must end, a finished one waits. */
export function groupThreads(): { live: number; idle: number } {
  return { live: liveThreads, idle: idle.length };
}

/** How many sql task reads fell back from the thread to the main thread on a stale catalogue. */
let staleReads = 0;
export function staleThreadReads(): number {
  return staleReads;
}

/**
 * The same users and groups as `inBatches(streamSqlGroups(...))`, in the same order, from a
 * thread when cloak.db is a file and the task's first table is large; otherwise (an in-memory
 * database cannot be opened twice) from this thread. Leaving the loop early ends the thread; a
 * thread that read to the end waits, unreferenced, for the next read.
 */
export async function* streamSqlGroupsThreaded(
  main: Database.Database,
  orgId: string,
  query: SqlTaskQuery,
  limits: GroupLimits,
  userIds?: readonly string[],
  options: ThreadOptions = {},
): AsyncGenerator<SqlUserGroups[], void, undefined> {
  const inThread = () => inBatches(streamSqlGroups(main, orgId, query, limits, userIds));
  if (main.memory) return yield* inThread();
  // Synchronous reads one after the other: cloak.db's writers run on this thread, so these see
  // one state of the catalogue.
  const scope = sqlScope(main, orgId);
  // Sized before compiling: the main-thread read compiles inside its own snapshot anyway, and an
  // unknown table gets its error from there.
  if (!largeEnough(main, scope.table(query.tables[0]!.table)?.id, options.minRows)) {
    return yield* inThread();
  }
  const compiled = compileSqlTask(query, scope, userIds);
  const fallback =
    compiled.rows === 'user' ? compileSqlTask(query, scope, userIds, GROUP_ROWS_FLAVOR) : undefined;
  const digest = {
    sql: CATALOGUE_DIGEST_SQL,
    params: [orgId, orgId],
    expected:
      options.expectedDigest ??
      JSON.stringify(main.prepare(CATALOGUE_DIGEST_SQL).raw(true).get(orgId, orgId)),
  };
  const thread = new GroupsThread({
    file: main.name,
    compiled,
    fallback,
    digest,
    limits,
    batchSize: SQL_GROUP_BATCH,
  });
  // Outcomes by the thread's ids (sql-groups-worker.mjs): one object each, shared by its users.
  const outcomes: SqlGroupsOutcome[] = [];
  try {
    for (;;) {
      const message = await thread.next();
      if (message.type === 'batch') {
        thread.taken();
        for (const [id, outcome] of message.defined) outcomes[id] = outcome;
        yield Array.from(message.userIds, (userId, i) => ({
          userId,
          ...outcomes[message.outcomes[i]!]!,
        }));
        continue;
      }
      // The thread has finished this read (whatever it says) and may serve the next one.
      thread.finished();
      if (message.type === 'done') return;
      if (message.type === 'error') throw threadError(message);
      // A table was altered between the compilation and the thread's snapshot: read here,
      // compiled again inside one snapshot, as before the thread.
      staleReads++;
      return yield* inThread();
    }
  } finally {
    thread.end();
  }
}

function largeEnough(
  db: Database.Database,
  tableId: number | undefined,
  minRows = THREAD_MIN_ROWS,
): boolean {
  if (tableId === undefined || minRows === Infinity) return false;
  if (minRows <= 0) return true;
  // Steps at most minRows rows of the clustered table: a bounded probe, not a count.
  const probe = db.prepare(
    `SELECT 1 FROM ${quoteIdentifier(physicalTableName(tableId))} LIMIT 1 OFFSET ?`,
  );
  return probe.get(minRows - 1) !== undefined;
}

type ThreadMessage =
  | {
      type: 'batch';
      userIds: string[];
      outcomes: Int32Array;
      defined: Array<[number, SqlGroupsOutcome]>;
    }
  | { type: 'done' }
  | { type: 'stale' }
  | { type: 'error'; name: string; message: string; code?: string };

/** One read: a thread (an idle one, or a new one), its messages in order, its credits. */
class GroupsThread {
  readonly #worker: Worker;
  readonly #credits = new Int32Array(new SharedArrayBuffer(4));
  readonly #queue: ThreadMessage[] = [];
  #waiting: ((message: ThreadMessage) => void) | undefined;
  #finished = false;
  readonly #deliver = (message: ThreadMessage) => {
    const waiting = this.#waiting;
    this.#waiting = undefined;
    if (waiting) waiting(message);
    else this.#queue.push(message);
  };
  readonly #failed = (error: Error) =>
    this.#deliver({ type: 'error', name: error.name, message: error.message });
  readonly #exited = (code: number) =>
    this.#deliver({ type: 'error', name: 'Error', message: `the thread exited (${code})` });

  constructor(job: Omit<ReadJob, 'credits'>) {
    this.#credits[0] = BATCHES_AHEAD;
    this.#worker = idle.pop() ?? startThread();
    // Referenced while it reads: a process waiting only for this read must not exit.
    this.#worker.ref();
    this.#worker.on('message', this.#deliver);
    this.#worker.on('error', this.#failed);
    this.#worker.on('exit', this.#exited);
    this.#worker.postMessage({ ...job, credits: this.#credits.buffer } satisfies ReadJob);
  }

  next(): Promise<ThreadMessage> {
    const queued = this.#queue.shift();
    if (queued) return Promise.resolve(queued);
    return new Promise((resolve) => (this.#waiting = resolve));
  }

  /** The run took a batch: the thread may send one more. */
  taken(): void {
    Atomics.add(this.#credits, 0, 1);
    Atomics.notify(this.#credits, 0);
  }

  /** The thread sent its last message of this read: it is free for another. */
  finished(): void {
    this.#finished = true;
  }

  /**
   * Detaches from the thread: a finished one waits for the next read (or exits, past MAX_IDLE);
   * one stopped midway (a cancelled run) is ended, since it may be blocked on its credits.
   */
  end(): void {
    this.#worker.off('message', this.#deliver);
    this.#worker.off('error', this.#failed);
    this.#worker.off('exit', this.#exited);
    if (this.#finished && idle.length < MAX_IDLE) {
      this.#worker.unref();
      idle.push(this.#worker);
      return;
    }
    // Woken first: a thread blocked in Atomics.wait would not see the termination.
    Atomics.store(this.#credits, 0, BATCHES_AHEAD);
    Atomics.notify(this.#credits, 0);
    void this.#worker.terminate();
  }
}

/** What the thread is asked to read (sql-groups-worker.mjs). */
interface ReadJob {
  file: string;
  compiled: CompiledSqlTask;
  fallback: CompiledSqlTask | undefined;
  digest: { sql: string; params: unknown[]; expected: string };
  limits: GroupLimits;
  batchSize: number;
  credits: SharedArrayBuffer;
}

function startThread(): Worker {
  // Nothing of the parent's flags (the sandbox's, a test runner's loaders) is needed here.
  const worker = new Worker(WORKER_ENTRY, { execArgv: [] });
  liveThreads++;
  worker.on('error', () => {}); // a read in progress hears it through its own listener
  worker.once('exit', () => {
    liveThreads--;
    const at = idle.indexOf(worker);
    if (at >= 0) idle.splice(at, 1);
  });
  return worker;
}

/** The thread's error as the in-thread read would have thrown it: its message and code. */
function threadError(message: Extract<ThreadMessage, { type: 'error' }>): Error {
  const error = new Error(message.message);
  error.name = message.name;
  if (message.code !== undefined) Object.assign(error, { code: message.code });
  return error;
}
