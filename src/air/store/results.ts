// Published results of tasks: anonymized buckets and exceptions, newest first.
import type {
  AnonymizedResult,
  BudgetNotice,
  PublishedBucket,
  PublishedException,
} from '../../shared/index.ts';
import { toApiItem } from '../result-format.ts';
import { statementCache, type Db } from '../../store/index.ts';

export interface StoredResult {
  id: number;
  taskId: number;
  publishedAt: number;
  codeVersion: number;
  buckets: PublishedBucket[];
  exceptions: PublishedException[];
  /** What the run said about the participation budget, when it was charged to it. */
  budget?: BudgetNotice;
}

interface ResultRow {
  id: number;
  taskId: number;
  publishedAt: number;
  codeVersion: number;
  buckets: string;
  exceptions: string;
  budget: string | null;
}

const COLUMNS =
  'id, task_id AS taskId, published_at AS publishedAt, code_version AS codeVersion, buckets, exceptions, budget';

export class ResultStore {
  private readonly sql: ReturnType<typeof statementCache>;

  constructor(db: Db) {
    this.sql = statementCache(db);
  }

  publish(
    taskId: number,
    codeVersion: number,
    result: AnonymizedResult,
    publishedAt = Date.now(),
  ): StoredResult {
    const stored: StoredResult = { id: 0, taskId, publishedAt, codeVersion, ...result };
    const info = this.sql(
      `INSERT INTO results (task_id, published_at, code_version, buckets, exceptions, budget, api_item)
       VALUES (?, ?, ?, ?, ?, ?, ?)`,
    ).run(
      taskId,
      publishedAt,
      codeVersion,
      JSON.stringify(result.buckets),
      JSON.stringify(result.exceptions),
      result.budget ? JSON.stringify(result.budget) : null,
      JSON.stringify(toApiItem(stored)),
    );
    return { ...stored, id: Number(info.lastInsertRowid) };
  }

  delete(taskId: number, resultId: number): boolean {
    return (
      this.sql('DELETE FROM results WHERE task_id = ? AND id = ?').run(taskId, resultId).changes ===
      1
    );
  }

  /**
   * Every result of a task, newest first, read a page at a time: an open SQLite iterator would
   * keep the connection busy for as long as a slow client downloads, blocking other requests.
   */
  *all(taskId: number, pageSize = 200): Generator<StoredResult> {
    for (let page = 1; ; page++) {
      const rows = this.page(taskId, page, pageSize);
      yield* rows;
      if (rows.length < pageSize) return;
    }
  }

  count(taskId: number): number {
    const row = this.sql('SELECT COUNT(*) AS n FROM results WHERE task_id = ?').get(taskId) as {
      n: number;
    };
    return row.n;
  }

  /**
   * One page as the API's JSON items, newest first. Results stored before the api_item column
   * existed are rendered on first read and kept.
   */
  pageApiItems(taskId: number, page: number, perPage: number): Array<{ id: number; json: string }> {
    const rows = this.sql(
      `SELECT id, api_item AS apiItem FROM results WHERE task_id = ?
       ORDER BY published_at DESC, id DESC LIMIT ? OFFSET ?`,
    ).all(taskId, perPage, (page - 1) * perPage) as Array<{ id: number; apiItem: string | null }>;
    return rows.map((row) => ({ id: row.id, json: row.apiItem ?? this.renderApiItem(row.id) }));
  }

  private renderApiItem(id: number): string {
    const row = this.sql(`SELECT ${COLUMNS} FROM results WHERE id = ?`).get(id) as ResultRow;
    const item = JSON.stringify(toApiItem(fromRow(row)));
    this.sql('UPDATE results SET api_item = ? WHERE id = ?').run(item, id);
    return item;
  }

  /** One page, newest first; ties in publication time fall back to insertion order. */
  page(taskId: number, page: number, perPage: number): StoredResult[] {
    const rows = this.sql(
      `SELECT ${COLUMNS} FROM results WHERE task_id = ?
       ORDER BY published_at DESC, id DESC LIMIT ? OFFSET ?`,
    ).all(taskId, perPage, (page - 1) * perPage) as ResultRow[];
    return rows.map(fromRow);
  }
}

function fromRow({ budget, ...row }: ResultRow): StoredResult {
  const result: StoredResult = {
    ...row,
    buckets: JSON.parse(row.buckets) as PublishedBucket[],
    exceptions: JSON.parse(row.exceptions) as PublishedException[],
  };
  if (budget !== null) result.budget = JSON.parse(budget) as BudgetNotice;
  return result;
}
