// The web REST API's answer shapes in zod: rendered into its OpenAPI description (/openapi.json).
import { z } from 'zod';
import { named } from '../../http/index.ts';
import { TASK_LANGUAGES } from '../../shared/index.ts';
import { budgetNoticeShape } from '../../shared/budget-notice-shape.ts';
import { TASK_TYPES } from '../store/index.ts';

const ms = z.number().int().describe('Milliseconds since 1970-01-01 UTC.');

export const schedule = named(
  'Schedule',
  z.union([
    z.strictObject({ every_seconds: z.number().int() }),
    z.strictObject({ cron: z.string() }),
    z.strictObject({ report_interval: z.number().int(), user_expire_interval: z.number().int() }),
  ]),
);

export const task = named(
  'Task',
  z.strictObject({
    id: z.number().int(),
    token: z.string(),
    name: z.string(),
    type: z.enum(TASK_TYPES),
    code_version: z.number().int(),
    created_at: ms,
    updated_at: ms,
    schedule: schedule.optional().describe('Periodic and streaming tasks only.'),
    next_run_at: ms.nullable().optional().describe('Periodic tasks only.'),
  }),
);

export const taskDetail = named(
  'TaskDetail',
  task.extend({
    language: z.enum(TASK_LANGUAGES),
    code: z.string(),
    prefetch: z.array(z.record(z.string(), z.unknown())),
  }),
);

export const run = named(
  'Run',
  z.strictObject({
    id: z.string(),
    kind: z.enum(['run', 'preview']),
    state: z.enum(['running', 'completed', 'failed', 'cancelled']),
    users_done: z.number().int(),
    users_total: z
      .number()
      .int()
      .describe('Users of the selected tables, rounded up to a power of two (docs/api.md).'),
    started_at: ms,
    finished_at: ms.nullable(),
    result_id: z.number().int().nullable(),
    error: z.string().nullable(),
  }),
);

export const budgetNotice = named('BudgetNotice', budgetNoticeShape);

/** One published result in the seed's form (seed/rest-api-reference.md). */
export const resultItem = named(
  'ResultItem',
  z.strictObject({
    published_at: ms,
    buckets: z.array(
      z.strictObject({
        name: z
          .string()
          .describe('"<label>: <value>", or the label alone when the value is empty.'),
        value: z.number().int().describe('Anonymized number of distinct users.'),
      }),
    ),
    exceptions: z.array(z.strictObject({ error: z.string(), count: z.number().int() })),
    budget: budgetNotice.optional().describe('Only for runs charged to the participation budget.'),
  }),
);

export const resultWithId = named('Result', resultItem.extend({ id: z.number().int() }));

const page = {
  count: z.number().int().describe("The task's number of results, not the page's."),
  page: z.number().int(),
  per_page: z.number().int(),
};

/** GET /api/task_results/<task_id>: the seed's endpoint, exactly. */
export const seedResultsPage = named(
  'SeedResultsPage',
  z.strictObject({
    success: z.literal(true),
    ...page,
    items: z.array(resultItem),
  }),
);

export const resultsPage = named(
  'ResultsPage',
  z.strictObject({
    success: z.literal(true),
    ...page,
    results: z.array(resultWithId),
  }),
);

export const budgetView = named(
  'BudgetView',
  z.union([
    z.strictObject({
      enabled: z.literal(true),
      rho: z.number(),
      disclosure_rho: z.number(),
      period_days: z.number(),
      renews_at: ms.nullable(),
      runs_this_period: z.number().int(),
      next_noise_sd: z.number(),
      disclosures: z.array(
        budgetNotice.extend({
          kind: z.enum(['run', 'preview']),
          at: ms,
          period: z.number().int(),
        }),
      ),
    }),
    z.strictObject({ enabled: z.literal(false), message: z.string() }),
  ]),
);

export const budgetPreview = named(
  'BudgetPreview',
  z.union([
    budgetNotice.extend({ budgeted: z.literal(true) }),
    z.strictObject({ budgeted: z.literal(false), message: z.string() }),
  ]),
);

export const sessionUser = named(
  'SessionUser',
  z.strictObject({
    id: z.string(),
    email: z.string(),
    name: z.string(),
    role: z.enum(['analyst', 'data_owner', 'admin']),
    access_level: z.enum(['untrusted', 'trusted']),
    org_id: z.string(),
    key_types: z.array(z.string()),
    may_erase_data: z.boolean(),
  }),
);

export const byToken = z.strictObject({
  token: z.string().describe("The task's token (or its numeric id)."),
});

export const pagination = z.strictObject({
  page: z.string().optional().describe('Page number, from 1 (default 1).'),
  per_page: z.string().optional().describe('Results per page, 1 to 100 (default 10).'),
});

/** The named shapes of the web REST API's description (components.schemas). */
export const WEB_API_COMPONENTS = [
  schedule,
  task,
  taskDetail,
  run,
  budgetNotice,
  resultItem,
  resultWithId,
  seedResultsPage,
  resultsPage,
  budgetView,
  budgetPreview,
  sessionUser,
];
