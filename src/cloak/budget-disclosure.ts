// What a budgeted run says about the budget itself: a noisy count of the users it left out, on a schedule whose total loss is bounded.
import { noise } from '../anonymizer/index.ts';
import type { BudgetNotice } from '../shared/index.ts';

/*
 * Why. A user who has spent the budget is left out of the fresh buckets that follow, so counts
 * come out low. Saying so exactly (per bucket, or "someone was left out") would tell the analyst
 * whether a chosen victim ran out, which depends on the victim's data; the users left out cannot
 * pay for that look, having nothing left. So each budgeted run publishes two noisy counts instead,
 * each of sensitivity 1 (one user changes each by at most 1): the users this run left out, and
 * the users of the organisation who have run out in this budget period.
 *
 * Who pays. Every user pays for every disclosure, whether or not they were left out, and the
 * price does not depend on anyone's data: the k-th run of an organisation in a budget period
 * (known to the analyst, who started it) has noise of sd FIRST_SD * k^0.75. Both counts together
 * cost each user 2 / (2 sd_k^2) = 1 / sd_k^2, and the sum over all k is zeta(1.5) / FIRST_SD^2
 * (DISCLOSURE_RHO, 0.0054), however many runs there are: the figure gets coarser as the period
 * goes on (sd 22 for the first run, 124 for the tenth, 696 for the hundredth) but never costs
 * more. The noise is fresh per run (seeded by the run's number), so a rerun does not repeat it; it
 * is not sticky on purpose: a figure whose sd changes from run to run must not reuse its draw,
 * or two runs with the same left-out users would give the count away.
 */

/** Noise sd of an organisation's first disclosure in a budget period. */
export const DISCLOSURE_FIRST_SD = 22;
/** The k-th disclosure's sd grows as k^this: any exponent above 0.5 keeps the total finite. */
export const DISCLOSURE_GROWTH = 0.75;
/** zeta(2 * DISCLOSURE_GROWTH) = zeta(1.5). */
const ZETA_1_5 = 2.612375348685488;
/** The loss every user pays for all disclosures of a period together: zeta(1.5) / FIRST_SD^2. */
export const DISCLOSURE_RHO = ZETA_1_5 / (DISCLOSURE_FIRST_SD * DISCLOSURE_FIRST_SD);

/** A disclosure's figures are shown to this step: finer digits would be noise. */
const STEP = 5;
/**
 * A figure this many sds above 0 says that counts are low, not just noisy: at 2 a run that left
 * nobody out still warned one time in 44; at 4, one time in 30,000.
 */
const CLEAR_SDS = 4;

/** The noise sd of the k-th disclosure (k >= 1) of a budget period. */
export function disclosureSd(k: number): number {
  return DISCLOSURE_FIRST_SD * Math.pow(Math.max(1, k), DISCLOSURE_GROWTH);
}

export interface DisclosureInput {
  orgId: string;
  /** The run's number in the organisation's budget period (1 for its first). */
  periodRun: number;
  /** The run's number among all the organisation's budgeted runs: seeds the fresh noise. */
  seq: number;
  /** Distinct users this run left out of at least one bucket because of the budget. */
  leftOut: number;
  /** Users of the organisation who have run out in this budget period, after this run. */
  exhausted: number;
  /** When the period ends (ms since 1970), or undefined when the budget never renews. */
  renewsAt: number | undefined;
  /** A cost preview's notice: the same figures, said of a run that has not happened. */
  preview?: boolean;
}

/** The notice a budgeted run publishes next to its buckets. */
export function budgetNotice(secret: Uint8Array, input: DisclosureInput): BudgetNotice {
  const sd = disclosureSd(input.periodRun);
  const draw = (what: string, count: number) => {
    const noisy = count + noise(secret, ['budget', input.orgId, String(input.seq)], what, sd);
    return Math.max(0, Math.round(noisy / STEP) * STEP);
  };
  const leftOut = draw('left-out', input.leftOut);
  const exhausted = draw('exhausted', input.exhausted);
  const noiseSd = Math.round(sd);
  const bound = Math.round(CLEAR_SDS * sd);
  const mayBeLow = leftOut > bound;
  const figures = { leftOut, exhausted, noiseSd, bound };
  const message = input.preview ? previewMessage(mayBeLow, figures) : runMessage(mayBeLow, figures);
  return {
    users_left_out: leftOut,
    users_exhausted: exhausted,
    noise_sd: noiseSd,
    may_be_low: mayBeLow,
    period_run: input.periodRun,
    renews_at: input.renewsAt ?? null,
    message,
  };
}

interface Figures {
  leftOut: number;
  exhausted: number;
  noiseSd: number;
  /**
   * Four times the noise sd: below it a figure says nothing, and up to it users may have been
   * left out unseen. In a small organisation it can exceed every count, which the message says
   * in so many words: "no sign" read as an all-clear there.
   */
  bound: number;
}

const WHY = 'see docs/tasks.md, "Why is a bucket missing or noisy?"';

function runMessage(mayBeLow: boolean, f: Figures): string {
  return mayBeLow
    ? `About ${f.leftOut} users were left out of this task's buckets because they have spent ` +
        `this organisation's participation budget (a noisy figure, sd ${f.noiseSd}): published ` +
        `counts may be low by up to that many. Buckets that count fewer users per person survive ` +
        `longer; ${WHY}.`
    : `Too few users left out by the participation budget to show above this figure's noise: ` +
        `up to about ${f.bound} may have been (four times its noise sd ${f.noiseSd}), so a count ` +
        `of that size or smaller may be low by that much; ${WHY}.`;
}

/**
 * Users this task would exhaust are left out of the bucket they cannot afford, so "would leave
 * out" counts them too: a task that would exhaust many users says so here, before it runs.
 */
function previewMessage(mayBeLow: boolean, f: Figures): string {
  const spentNothing =
    "This preview spent nobody's budget; it used one of this period's budget notices, so the " +
    'next figure is a little noisier.';
  return mayBeLow
    ? `This task would leave out about ${f.leftOut} users who have spent this organisation's ` +
        `participation budget or would run out of it during this task (a noisy figure, sd ` +
        `${f.noiseSd}): its counts would be low by up to that many, and after it about ` +
        `${f.exhausted} users would have spent the budget. Buckets that count fewer users per ` +
        `person survive longer; ${WHY}. ${spentNothing}`
    : `Too few users this task would leave out for the participation budget to show above this ` +
        `figure's noise: up to about ${f.bound} may be (four times its noise sd ${f.noiseSd}), so ` +
        `a count of that size or smaller may come out low by that much. ${spentNothing}`;
}
