// The budget notice (BudgetNotice in types.ts) in zod, for both APIs' OpenAPI descriptions.
// Not re-exported by index.ts: the anonymizer imports shared and has no use for zod.
import { z } from 'zod';

export const budgetNoticeShape = z.strictObject({
  users_left_out: z.number(),
  users_exhausted: z.number(),
  noise_sd: z.number(),
  may_be_low: z.boolean(),
  period_run: z.number().int(),
  renews_at: z.number().int().nullable(),
  message: z.string(),
});
