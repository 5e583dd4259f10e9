// The /service routes' request and answer shapes in zod: checked in the handlers, documented in /openapi.json.
import { z } from 'zod';
import { named } from '../../http/index.ts';
import { ACCESS_LEVELS, TASK_LANGUAGES } from '../../shared/index.ts';
import { budgetNoticeShape } from '../../shared/budget-notice-shape.ts';
import { table, taskRunAnswer } from './api-schemas.ts';

/** Ids and names the air sends are its own tokens and names: short, never empty. */
const id = z.string().min(1).max(200);
/** The longest whole-run limit the air may ask for: the background limit's own maximum. */
const MAX_TIMEOUT_SECONDS = 7 * 24 * 3600;
/** One try-it never needs more made-up users than this (the site sends a handful). */
const MAX_TEST_USERS = 1000;
const MAX_NOTICES = 100;

const orgScoped = { org_id: id.describe('The organisation the air acts for.') };

export const taskSpec = named(
  'TaskSpec',
  z.strictObject({
    code: z.string().max(1_000_000),
    prefetch: z
      .array(z.record(z.string(), z.unknown()))
      .describe('The data selection (docs/api.md, "Prefetch"); the cloak checks each entry.'),
    language: z.enum(TASK_LANGUAGES).optional(),
  }),
);

export const orgBody = z.strictObject(orgScoped);

export const validateBody = z.strictObject({ ...orgScoped, spec: taskSpec });

export const runBody = z.strictObject({
  ...orgScoped,
  spec: taskSpec,
  access: z
    .enum(ACCESS_LEVELS)
    .default('untrusted')
    .describe('Decided by the air from its own records; a trusted run is audited there first.'),
  timeout_seconds: z.number().int().min(1).max(MAX_TIMEOUT_SECONDS).optional(),
});

export const budgetBody = z.strictObject({
  ...orgScoped,
  limit: z.number().int().min(1).max(MAX_NOTICES),
});

export const streamingBody = z.strictObject({
  ...orgScoped,
  task_key: id,
  spec: taskSpec.nullable().describe('null stops the task and forgets its users.'),
});

export const streamingReportBody = z.strictObject({
  ...orgScoped,
  task_key: id,
  user_expire_seconds: z.number().int().min(1),
});

const cell = z.union([z.string(), z.number(), z.boolean(), z.null()]);
export const tryBody = z.strictObject({
  ...orgScoped,
  spec: taskSpec,
  users: z
    .array(
      z.strictObject({
        id: z.string().max(200),
        tables: z.record(z.string(), z.array(z.record(z.string(), cell))),
      }),
    )
    .max(MAX_TEST_USERS),
});

export const defineTableBody = z.strictObject({
  ...orgScoped,
  definition: z.unknown().describe('{name, columns: [{name, type}]}; the cloak checks it.'),
});

export const alterTableBody = z.strictObject({
  ...orgScoped,
  name: id,
  change: z.unknown().describe('{add?: [{name, type}], drop?: [name]}; the cloak checks it.'),
});

export const dropTableBody = z.strictObject({ ...orgScoped, name: id });

const anonymizedResult = taskRunAnswer.omit({ task_id: true });
export const resultAnswer = z.strictObject({ success: z.literal(true), result: anonymizedResult });

export const previewAnswer = z.strictObject({
  success: z.literal(true),
  preview: z.union([
    budgetNoticeShape.extend({ budgeted: z.literal(true) }),
    z.strictObject({ budgeted: z.literal(false), message: z.string() }),
  ]),
});

export const specAnswer = z.strictObject({ success: z.literal(true), spec: taskSpec });

export const budgetStateAnswer = z.strictObject({
  success: z.literal(true),
  state: z
    .record(z.string(), z.unknown())
    .nullable()
    .describe('The budget state (docs/api.md, GET /api/budget), or null when the budget is off.'),
});

export const tryAnswer = z.strictObject({
  success: z.literal(true),
  outcomes: z.array(
    z.union([
      z.strictObject({
        id: z.string(),
        ok: z.literal(true),
        properties: z.array(z.tuple([z.string(), z.string()])),
      }),
      z.strictObject({ id: z.string(), ok: z.literal(false), error: z.string() }),
    ]),
  ),
});

export const tablesAnswer = z.strictObject({ success: z.literal(true), tables: z.array(table) });
export const tableAnswer = z.strictObject({ success: z.literal(true), table });
export const userCountsAnswer = z.strictObject({
  success: z.literal(true),
  counts: z.array(z.strictObject({ table: z.string(), users: z.number().nullable() })),
});

/** The named shapes the /service routes add to the cloak API's description. */
export const SERVICE_COMPONENTS = [taskSpec];
