// Hands checked rows (an import's batches, large uploads) to a thread that stores them (row-writer-worker.mjs), so that reading the next and writing these overlap.
import path from 'node:path';
import { Worker } from 'node:worker_threads';
import { installRoot } from '../../shared/index.ts';
import { RECORD_POSITION, type ImportPosition } from './import-progress.ts';
import { insertSql, READ_SEQUENCE, WRITE_SEQUENCE, type CheckedPayload } from './insert.ts';

const WORKER_ENTRY = path.join(installRoot(), 'src/cloak/data/row-writer-worker.mjs');

/** The statements the thread prepares: the same texts as the main thread's insert path. */
const STATEMENTS = {
  readSequence: READ_SEQUENCE,
  writeSequence: WRITE_SEQUENCE,
  tableVersion: 'SELECT version FROM data_tables WHERE id = ? AND org_id = ?',
  recordPosition: RECORD_POSITION,
};

/** Where a batch's rows go and whose import it continues. */
export interface ImportBatchPlace {
  orgId: string;
  tableName: string;
  importId: string;
  position: ImportPosition;
}

/** A `POST /bulk_insert` payload's place: no import, and the time it arrived, if given. */
export interface InsertPlace {
  orgId: string;
  arrival?: number;
}

/**
 * The thread answered that a table of the batch changed (altered or dropped) after the batch was
 * checked: this batch and every later one were not stored, and are to be stored by the caller,
 * checked again against the table as it is now.
 */
export class StaleRowBatch extends Error {
  constructor() {
    super('a table changed after the batch was checked; it is to be checked again');
  }
}

type Answer =
  | { id: number; type: 'stored' }
  | { id: number; type: 'stale' }
  | { id: number; type: 'skipped' }
  | { id: number; type: 'error'; name: string; message: string; code?: string };

/**
 * A writer thread: an import's own (ordered) or a store's for large uploads (unordered). `write`
 * resolves once the batch is committed; batches are written in the order given. Ordered, a failed
 * batch rejects and so do all later ones (nothing after a failure is stored). `close` ends the
 * thread; call it when the import (or the store) ends, however it ends.
 */
export class RowWriter {
  /** Threads started so far in this process (tests: an import of several batches uses one). */
  static started = 0;
  readonly #worker: Worker;
  readonly #waiting = new Map<number, { resolve: () => void; reject: (error: Error) => void }>();
  #next = 0;
  /** Set when the thread itself failed (it exited, or threw outside a batch). */
  #broken: Error | undefined;

  /**
   * `ordered` (an import): a batch that fails, or finds a table changed, stops every later one.
   * Unordered (uploads, each its own request): each batch stands alone, and the thread is
   * unreferenced while it has nothing to write.
   */
  constructor(
    file: string,
    private readonly ordered = true,
  ) {
    // Nothing of the parent's flags (a test runner's loaders) is needed here.
    this.#worker = new Worker(WORKER_ENTRY, {
      execArgv: [],
      workerData: { file, statements: STATEMENTS, ordered },
    });
    if (!ordered) this.#worker.unref();
    RowWriter.started++;
    this.#worker.on('message', (answer: Answer) => this.#answer(answer));
    // An error thrown outside a batch arrives as the thread saw it, cloned: maybe not an Error.
    this.#worker.on('error', (error: unknown) =>
      this.#break(
        error instanceof Error
          ? error
          : new Error(`the writer thread failed: ${String((error as Error)?.message)}`),
      ),
    );
    this.#worker.on('exit', (code) => this.#break(new Error(`the writer thread exited (${code})`)));
  }

  /** Whether the thread has gone (exited, failed outside a batch, or closed): it writes no more. */
  get broken(): boolean {
    return this.#broken !== undefined;
  }

  write(checked: CheckedPayload, place: ImportBatchPlace | InsertPlace): Promise<void> {
    if (this.#broken) return Promise.reject(this.#broken);
    const id = this.#next++;
    // Referenced while it writes: a process waiting only for this batch must not exit.
    if (!this.ordered && this.#waiting.size === 0) this.#worker.ref();
    const targets = checked.targets.map(({ table, chunks }) => ({
      tableId: table.id,
      version: table.version,
      ...insertSql(table),
      width: 3 + table.columns.length,
      chunks,
    }));
    return new Promise<void>((resolve, reject) => {
      this.#waiting.set(id, { resolve, reject });
      this.#worker.postMessage({ id, targets, ...place });
    });
  }

  async close(): Promise<void> {
    this.#worker.removeAllListeners('exit');
    await this.#worker.terminate();
    this.#break(new Error('the writer thread was closed'));
  }

  #answer(answer: Answer): void {
    const waiting = this.#waiting.get(answer.id);
    if (!waiting) return;
    this.#waiting.delete(answer.id);
    if (!this.ordered && this.#waiting.size === 0) this.#worker.unref();
    if (answer.type === 'stored') return waiting.resolve();
    if (answer.type === 'stale') return waiting.reject(new StaleRowBatch());
    if (answer.type === 'skipped') return waiting.reject(notStored());
    const error = new Error(answer.message);
    error.name = answer.name;
    if (answer.code !== undefined) Object.assign(error, { code: answer.code });
    waiting.reject(error);
  }

  #break(error: Error): void {
    this.#broken ??= error;
    for (const { reject } of this.#waiting.values()) reject(error);
    this.#waiting.clear();
  }
}

export type ImportPayload = Record<string, unknown>;

/** What an import's batches need of the store. */
export interface ImportBatchStore {
  /** cloak.db's file, or undefined for an in-memory database (no thread: it cannot be shared). */
  file: string | undefined;
  /** Checks and stores a batch with its position in one transaction, on this thread. */
  storeHere(payload: ImportPayload, position: ImportPosition): void;
  /** Checks a batch against the tables as they are now, for the thread (no sequences yet). */
  check(payload: ImportPayload): CheckedPayload;
  /** Where the batches go: all but the position, which is each batch's own. */
  place: Omit<ImportBatchPlace, 'position'>;
}

/**
 * An import's batches, stored in the order given, whatever thread stores them: the first on this
 * thread (a one-batch import starts no thread), the later ones by the writer thread while the
 * importer reads on (file-import.ts's `inFlight`), and, once a table has changed under the
 * thread, on this thread again, each checked inside its own transaction. A batch that fails stops
 * the storing: no later batch is stored, so what is stored is a prefix of the file.
 */
export class ImportBatches {
  #writer: RowWriter | undefined;
  #batches = 0;
  /** Set once a table changed under the thread: the rest is stored here, as before it. */
  #stale = false;
  /**
   * Set when a batch is refused before it reaches the thread (its check failed): no later batch
   * may be sent, or the file would be stored with a hole.
   */
  #refused = false;
  /** Whether every batch so far was stored, once they have settled: the next one's `before`. */
  #storedSoFar: Promise<boolean> = Promise.resolve(true);

  constructor(private readonly store: ImportBatchStore) {}

  insert(payload: ImportPayload, position: ImportPosition): Promise<void> {
    const before = this.#storedSoFar;
    const done = this.#insert(payload, position, before);
    const stored = done.then(
      () => true,
      () => false,
    );
    this.#storedSoFar = before.then((ok) => ok && stored);
    return done;
  }

  /** Ends the thread, if one was started: call once the import has ended, however it ended. */
  async close(): Promise<void> {
    await this.#writer?.close();
  }

  async #insert(
    payload: ImportPayload,
    position: ImportPosition,
    before: Promise<boolean>,
  ): Promise<void> {
    if (this.#refused) throw notStored();
    if (this.#stale) return this.#storeHere(payload, position, before);
    const { store } = this;
    let checked: CheckedPayload;
    try {
      if (store.file === undefined || this.#batches++ === 0) {
        return store.storeHere(payload, position);
      }
      checked = store.check(payload);
    } catch (error) {
      this.#refused = true;
      throw error;
    }
    this.#writer ??= new RowWriter(store.file);
    try {
      await this.#writer.write(checked, { ...store.place, position });
    } catch (error) {
      if (!(error instanceof StaleRowBatch)) throw error;
      // Neither this batch nor any sent after it was stored: each is stored here, in order.
      this.#stale = true;
      await this.#storeHere(payload, position, before);
    }
  }

  /** Stores a batch on this thread once the batches before it are stored. */
  async #storeHere(payload: ImportPayload, position: ImportPosition, before: Promise<boolean>) {
    if (!(await before)) throw notStored();
    this.store.storeHere(payload, position);
  }
}

function notStored(): Error {
  return new Error('not stored: an earlier batch of the import failed');
}
