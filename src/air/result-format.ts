// The web REST API's result shape, exactly as the seed documents it.
import type { StoredResult } from './store/index.ts';

export interface ApiBucket {
  name: string;
  value: number;
}

export interface ApiResultItem {
  published_at: number;
  buckets: ApiBucket[];
  exceptions: Array<{ error: string; count: number }>;
}

/** "label: value", or the label alone when the value is empty (SPEC, web REST API). */
export function bucketName(label: string, value: string): string {
  return value === '' ? label : `${label}: ${value}`;
}

export function toApiItem(result: StoredResult): ApiResultItem {
  return {
    published_at: result.publishedAt,
    buckets: result.buckets.map((b) => ({ name: bucketName(b.label, b.value), value: b.count })),
    exceptions: result.exceptions.map((e) => ({ error: e.error, count: e.count })),
  };
}
