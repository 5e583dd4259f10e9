// Published results of tasks: anonymized buckets and exceptions, newest first.
import type { AnonymizedResult, PublishedBucket, PublishedException } from '../../shared/index.ts';
import type { Db } from '../../store/index.ts';

export interface StoredResult {
  id: number;
  taskId: number;
  publishedAt: number;
  codeVersion: number;
  buckets: PublishedBucket[];
  exceptions: PublishedException[];
}

interface ResultRow {
  id: number;
  taskId: number;
  publishedAt: number;
  codeVersion: number;
  buckets: string;
  exceptions: string;
}

export class ResultStore {
  constructor(private readonly db: Db) {}

  publish(
    taskId: number,
    codeVersion: number,
    result: AnonymizedResult,
    publishedAt = Date.now(),
  ): StoredResult {
    const info = this.db
      .prepare(
        'INSERT INTO results (task_id, published_at, code_version, buckets, exceptions) VALUES (?, ?, ?, ?, ?)',
      )
      .run(
        taskId,
        publishedAt,
        codeVersion,
        JSON.stringify(result.buckets),
        JSON.stringify(result.exceptions),
      );
    return {
      id: Number(info.lastInsertRowid),
      taskId,
      publishedAt,
      codeVersion,
      buckets: result.buckets,
      exceptions: result.exceptions,
    };
  }

  count(taskId: number): number {
    const row = this.db
      .prepare('SELECT COUNT(*) AS n FROM results WHERE task_id = ?')
      .get(taskId) as {
      n: number;
    };
    return row.n;
  }

  /** One page, newest first; ties in publication time fall back to insertion order. */
  page(taskId: number, page: number, perPage: number): StoredResult[] {
    const rows = this.db
      .prepare(
        `SELECT id, task_id AS taskId, published_at AS publishedAt, code_version AS codeVersion, buckets, exceptions
         FROM results WHERE task_id = ? ORDER BY published_at DESC, id DESC LIMIT ? OFFSET ?`,
      )
      .all(taskId, perPage, (page - 1) * perPage) as ResultRow[];
    return rows.map((row) => ({
      ...row,
      buckets: JSON.parse(row.buckets) as PublishedBucket[],
      exceptions: JSON.parse(row.exceptions) as PublishedException[],
    }));
  }
}
