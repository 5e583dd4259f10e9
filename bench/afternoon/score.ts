// Scores published answers against the truth: per question, the afternoon's summary and the targets.
import type { AnonymizedResult } from '../../src/shared/index.ts';
import { SUPPRESSION_LABEL, SUPPRESSION_VALUE } from '../../src/anonymizer/suppression-bucket.ts';
import { bucketKey, type Truth } from './truth.ts';

/** "Usable": published within this fraction of the true count. */
export const WITHIN = 0.2;
/** Buckets at least this large are where a systematic bias shows (signed error). */
export const LARGE = 1000;

/** The targets (item 5). */
export const TARGETS = {
  afternoonWithin: 0.75,
  /** No question after the tenth below this share within 20%. */
  laterQuestionWithin: 0.5,
  laterFrom: 10,
  largeSignedError: 0.03,
  breakdownPublished: 0.95,
  breakdownError: 0.03,
} as const;

export interface QuestionScore {
  name: string;
  trueBuckets: number;
  published: number;
  within: number;
  /** Sum of |published - true| / true over published buckets. */
  absErrorSum: number;
  /** Over published buckets of >= LARGE true users: sum of signed relative errors, and how many. */
  largeSignedSum: number;
  largePublished: number;
  largeTrue: number;
  /** The suppression bucket as published (undefined: not published) and its truth. */
  starPublished: number | undefined;
  starTruth: number | undefined;
  /** The run's budget notice: noisy users left out, and whether it says counts may be low. */
  notice?: { leftOut: number; mayBeLow: boolean };
}

const share = (part: number, whole: number) => (whole === 0 ? Number.NaN : part / whole);

export function scoreQuestion(name: string, result: AnonymizedResult, truth: Truth): QuestionScore {
  const published = new Map<string, number>();
  let starPublished: number | undefined;
  for (const b of result.buckets) {
    if (b.label === SUPPRESSION_LABEL && b.value === SUPPRESSION_VALUE) starPublished = b.count;
    else published.set(bucketKey(b.label, b.value), b.count);
  }
  const score: QuestionScore = {
    name,
    trueBuckets: truth.counts.size,
    published: published.size,
    within: 0,
    absErrorSum: 0,
    largeSignedSum: 0,
    largePublished: 0,
    largeTrue: 0,
    starPublished,
    // The true '*': users with a property none of whose buckets was published.
    starTruth: truth.memberships
      ? [...truth.memberships.values()].filter((keys) => !keys.some((k) => published.has(k))).length
      : undefined,
  };
  if (result.budget) {
    score.notice = { leftOut: result.budget.users_left_out, mayBeLow: result.budget.may_be_low };
  }
  for (const [key, count] of truth.counts) {
    const shown = published.get(key);
    if (count >= LARGE) score.largeTrue++;
    if (shown === undefined) continue;
    const error = (shown - count) / count;
    if (Math.abs(error) <= WITHIN) score.within++;
    score.absErrorSum += Math.abs(error);
    if (count >= LARGE) {
      score.largeSignedSum += error;
      score.largePublished++;
    }
  }
  return score;
}

const pct = (x: number) => (Number.isNaN(x) ? '-' : `${(100 * x).toFixed(1)}%`);
const signedPct = (x: number) =>
  Number.isNaN(x) ? '-' : `${x >= 0 ? '+' : ''}${(100 * x).toFixed(1)}%`;
const int = (x: number | undefined) => (x === undefined ? '-' : x.toLocaleString('en-US'));

/** The per-question table, in markdown so it can be pasted into a report. */
export function formatQuestions(scores: QuestionScore[]): string {
  const header = [
    '#',
    'question',
    'true buckets',
    'published',
    'within 20%',
    'mean |err| (published)',
    `signed err >= ${LARGE} (pub/true)`,
    "'*' published / true",
    'budget notice: left out',
  ];
  const rows = scores.map((s, i) => [
    String(i + 1),
    s.name,
    int(s.trueBuckets),
    int(s.published),
    pct(share(s.within, s.trueBuckets)),
    pct(share(s.absErrorSum, s.published)),
    s.largeTrue === 0
      ? '-'
      : `${signedPct(share(s.largeSignedSum, s.largePublished))} (${s.largePublished}/${s.largeTrue})`,
    s.starTruth === undefined ? '-' : `${int(s.starPublished)} / ${int(s.starTruth)}`,
    s.notice ? `${int(s.notice.leftOut)}${s.notice.mayBeLow ? ' (may be low)' : ''}` : '-',
  ]);
  const widths = header.map((h, i) => Math.max(h.length, ...rows.map((r) => r[i]!.length)));
  const line = (cells: string[]) => `| ${cells.map((c, i) => c.padEnd(widths[i]!)).join(' | ')} |`;
  return [
    line(header),
    `|${widths.map((w) => '-'.repeat(w + 2)).join('|')}|`,
    ...rows.map(line),
  ].join('\n');
}

export interface Summary {
  afternoonWithin: number;
  worstLater: { within: number; question: number };
  largeSignedError: number;
  largePublished: number;
  largeTrue: number;
  breakdownPublished: number;
  breakdownError: number;
  met: {
    afternoon: boolean;
    later: boolean;
    largeSigned: boolean;
    breakdown: boolean;
  };
}

export function summarize(scores: QuestionScore[], breakdown: QuestionScore): Summary {
  const total = (f: (s: QuestionScore) => number) => scores.reduce((a, s) => a + f(s), 0);
  const afternoonWithin = share(
    total((s) => s.within),
    total((s) => s.trueBuckets),
  );
  let worstLater = { within: Number.POSITIVE_INFINITY, question: 0 };
  scores.forEach((s, i) => {
    const within = share(s.within, s.trueBuckets);
    if (i >= TARGETS.laterFrom && within < worstLater.within)
      worstLater = { within, question: i + 1 };
  });
  const largePublished = total((s) => s.largePublished);
  const largeSignedError = share(
    total((s) => s.largeSignedSum),
    largePublished,
  );
  const breakdownPublished = share(breakdown.published, breakdown.trueBuckets);
  const breakdownError = share(breakdown.absErrorSum, breakdown.published);
  return {
    afternoonWithin,
    worstLater,
    largeSignedError,
    largePublished,
    largeTrue: total((s) => s.largeTrue),
    breakdownPublished,
    breakdownError,
    met: {
      afternoon: afternoonWithin >= TARGETS.afternoonWithin,
      later: worstLater.within >= TARGETS.laterQuestionWithin,
      // A systematic bias hidden by leaving large buckets out would not be met either.
      largeSigned:
        Math.abs(largeSignedError) <= TARGETS.largeSignedError &&
        largePublished === total((s) => s.largeTrue),
      breakdown:
        breakdownPublished >= TARGETS.breakdownPublished &&
        breakdownError <= TARGETS.breakdownError,
    },
  };
}

const verdict = (met: boolean) => (met ? 'met' : 'NOT MET');

export function formatSummary(
  s: Summary,
  breakdown: QuestionScore,
  breakdownUsers: number,
): string {
  return [
    `afternoon: ${pct(s.afternoonWithin)} of all true buckets published within 20% (target >= ${pct(TARGETS.afternoonWithin)}): ${verdict(s.met.afternoon)}`,
    `questions ${TARGETS.laterFrom + 1} on: lowest ${pct(s.worstLater.within)} within 20% (question ${s.worstLater.question}) (target: none below ${pct(TARGETS.laterQuestionWithin)}): ${verdict(s.met.later)}`,
    `buckets of >= ${LARGE.toLocaleString('en-US')} users: mean signed error ${signedPct(s.largeSignedError)} over ${s.largePublished} published of ${s.largeTrue} (target within +-${pct(TARGETS.largeSignedError)}, all published): ${verdict(s.met.largeSigned)}`,
    `breakdown (fresh organisation, ${breakdownUsers.toLocaleString('en-US')} users x 10 rows): ${int(breakdown.published)} of ${int(breakdown.trueBuckets)} buckets published (${pct(s.breakdownPublished)}, target >= ${pct(TARGETS.breakdownPublished)}), mean |error| ${pct(s.breakdownError)} (target <= ${pct(TARGETS.breakdownError)}): ${verdict(s.met.breakdown)}`,
  ].join('\n');
}
