// Published results of tasks: anonymized buckets and exceptions, newest first.
import type {
  AnonymizedResult,
  BudgetNotice,
  PublishedBucket,
  PublishedException,
} from '../../shared/index.ts';
import { toApiItem } from '../result-format.ts';
import type { SqlDb } from '../../store/index.ts';

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

/** Aliases are quoted: PostgreSQL folds unquoted names to lower case. */
const COLUMNS =
  'id, task_id AS "taskId", published_at AS "publishedAt", code_version AS "codeVersion", buckets, exceptions, budget';

export class ResultStore {
  constructor(private readonly db: SqlDb) {}

  async publish(
    taskId: number,
    codeVersion: number,
    result: AnonymizedResult,
    publishedAt = Date.now(),
  ): Promise<StoredResult> {
    const stored: StoredResult = { id: 0, taskId, publishedAt, codeVersion, ...result };
    const row = await this.db.get<{ id: number }>(
      `INSERT INTO results (task_id, published_at, code_version, buckets, exceptions, budget, api_item)
       VALUES (?, ?, ?, ?, ?, ?, ?) RETURNING id`,
      [
        taskId,
        publishedAt,
        codeVersion,
        JSON.stringify(result.buckets),
        JSON.stringify(result.exceptions),
        result.budget ? JSON.stringify(result.budget) : null,
        JSON.stringify(toApiItem(stored)),
      ],
    );
    return { ...stored, id: Number(row!.id) };
  }

  async delete(taskId: number, resultId: number): Promise<boolean> {
    const { changes } = await this.db.run('DELETE FROM results WHERE task_id = ? AND id = ?', [
      taskId,
      resultId,
    ]);
    return changes === 1;
  }

  /**
   * Every result of a task, newest first, read a page at a time: an open cursor would keep a
   * connection busy for as long as a slow client downloads, blocking other requests.
   */
  async *all(taskId: number, pageSize = 200): AsyncGenerator<StoredResult> {
    for (let page = 1; ; page++) {
      const rows = await this.page(taskId, page, pageSize);
      yield* rows;
      if (rows.length < pageSize) return;
    }
  }

  async count(taskId: number): Promise<number> {
    const row = await this.db.get<{ n: number }>(
      'SELECT COUNT(*) AS n FROM results WHERE task_id = ?',
      [taskId],
    );
    return row?.n ?? 0;
  }

  /**
   * One page as the API's JSON items, newest first. Results stored before the api_item column
   * existed are rendered on first read and kept.
   */
  async pageApiItems(
    taskId: number,
    page: number,
    perPage: number,
  ): Promise<Array<{ id: number; json: string }>> {
    const rows = await this.db.all<{ id: number; apiItem: string | null }>(
      `SELECT id, api_item AS "apiItem" FROM results WHERE task_id = ?
       ORDER BY published_at DESC, id DESC LIMIT ? OFFSET ?`,
      [taskId, perPage, (page - 1) * perPage],
    );
    const items: Array<{ id: number; json: string }> = [];
    for (const row of rows) {
      items.push({ id: row.id, json: row.apiItem ?? (await this.renderApiItem(row.id)) });
    }
    return items;
  }

  private async renderApiItem(id: number): Promise<string> {
    const row = await this.db.get<ResultRow>(`SELECT ${COLUMNS} FROM results WHERE id = ?`, [id]);
    const item = JSON.stringify(toApiItem(fromRow(row!)));
    await this.db.run('UPDATE results SET api_item = ? WHERE id = ?', [item, id]);
    return item;
  }

  /** One page, newest first; ties in publication time fall back to insertion order. */
  async page(taskId: number, page: number, perPage: number): Promise<StoredResult[]> {
    const rows = await this.db.all<ResultRow>(
      `SELECT ${COLUMNS} FROM results WHERE task_id = ?
       ORDER BY published_at DESC, id DESC LIMIT ? OFFSET ?`,
      [taskId, perPage, (page - 1) * perPage],
    );
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
