// The web REST API's result shape, exactly as the seed documents it.
import type { BudgetNotice } from '../shared/index.ts';
import type { StoredResult } from './store/index.ts';

export interface ApiBucket {
  name: string;
  value: number;
}

export interface ApiResultItem {
  published_at: number;
  buckets: ApiBucket[];
  exceptions: Array<{ error: string; count: number }>;
  /** Beside the seed's fields: what the run said about the participation budget, if charged. */
  budget?: BudgetNotice;
}

/** "label: value", or the label alone when the value is empty (SPEC, web REST API). */
export function bucketName(label: string, value: string): string {
  return value === '' ? label : `${label}: ${value}`;
}

export function toApiItem(result: StoredResult): ApiResultItem {
  const item: ApiResultItem = {
    published_at: result.publishedAt,
    buckets: result.buckets.map((b) => ({ name: bucketName(b.label, b.value), value: b.count })),
    exceptions: result.exceptions.map((e) => ({ error: e.error, count: e.count })),
  };
  if (result.budget) item.budget = result.budget;
  return item;
}
