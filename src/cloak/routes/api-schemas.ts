// The cloak API's request and answer shapes in zod, for its OpenAPI description (/openapi.json).
// The bodies themselves are checked by the data store and the task runner, whose errors name
// the user, table, row and column (docs/data-plane.md); these describe what they accept.
import { z } from 'zod';
import { named } from '../../http/index.ts';
import { budgetNoticeShape } from '../../shared/budget-notice-shape.ts';

const budgetNotice = named('BudgetNotice', budgetNoticeShape);

const value = z.union([z.string(), z.number(), z.boolean(), z.null()]);
const row = z.record(z.string(), value).describe('One row: column name to value.');
const userRows = z
  .record(z.string(), z.array(row))
  .describe('Table name to the rows to add, in arrival order.');

export const bulkInsertBody = z
  .record(z.string(), userRows)
  .describe('User id to that user\'s rows by table: {"<user id>": {"<table>": [rows]}}.');

export const insertBody = userRows;

const column = z.strictObject({
  name: z.string(),
  type: z.string().describe('integer, bigint, float, double, boolean, varchar(N) or text.'),
});

export const table = named(
  'Table',
  z.strictObject({
    name: z.string(),
    columns: z.array(column),
    version: z.number().int().describe('1 on creation, one more for every change.'),
  }),
);

export const newTableBody = z.strictObject({
  name: z.string().describe('[A-Za-z][A-Za-z0-9_]*, without the ac_ prefix.'),
  columns: z.array(column),
});

export const tableChangeBody = z.strictObject({
  add: z.array(column).optional(),
  drop: z.array(z.string()).optional(),
});

export const lookupTableBody = z
  .array(z.tuple([z.string(), z.string()]))
  .describe('The whole table as [key, value] pairs.');

export const taskRunBody = z.object({
  task_id: z.unknown().optional().describe('Echoed in the answer and the async delivery.'),
  prefetch: z
    .array(z.record(z.string(), z.unknown()))
    .describe('The data selection (docs/api.md, "Prefetch").'),
  post_processing: z.object({
    code: z.string(),
    language: z.enum(['javascript', 'typescript', 'sql']).optional(),
  }),
  return_url: z
    .string()
    .optional()
    .describe('Async runs: base64 of the http(s) URL to post the result to.'),
  auth_token: z.string().optional().describe('Async runs: sent back in the QueryAuthToken header.'),
});

export const taskRunAnswer = named(
  'TaskRunAnswer',
  z.strictObject({
    task_id: z.unknown(),
    buckets: z.array(
      z.strictObject({ label: z.string(), value: z.string(), count: z.number().int() }),
    ),
    exceptions: z.array(z.strictObject({ error: z.string(), count: z.number().int() })),
    budget: budgetNotice.optional().describe('Only for runs charged to the participation budget.'),
  }),
);

export const asyncAccepted = z.strictObject({ success: z.literal(true), task_id: z.unknown() });

export const byName = z.strictObject({ name: z.string() });

/** The named shapes of the cloak API's description (components.schemas). */
export const CLOAK_API_COMPONENTS = [table, taskRunAnswer, budgetNotice];
