// Scenario: an analyst's afternoon of ordinary questions under the default privacy configuration, scored against the truth.
import { mkdtempSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { openCloak, type Cloak } from '../../src/cloak/index.ts';
import { pinNoiseSecret } from '../../src/cloak/noise-secret-test-support.ts';
import { buildConfig, type ConfigInput } from '../../src/config/index.ts';
import {
  AFTERNOON_TABLES,
  afternoonBatches,
  BREAKDOWN_AGES,
  BREAKDOWN_TABLE,
  breakdownBatches,
  newVisits,
} from '../afternoon/data.ts';
import { BREAKDOWN, QUESTIONS, type Question } from '../afternoon/questions.ts';
import {
  formatQuestions,
  formatSummary,
  scoreQuestion,
  summarize,
  type QuestionScore,
} from '../afternoon/score.ts';
import { trueCounts } from '../afternoon/truth.ts';
import type { BenchSize, Scenario } from '../harness.ts';

type Privacy = NonNullable<ConfigInput['privacy']>;

const ORG = 'afternoon-org';
const FRESH_ORG = 'fresh-org';
const SIZES: Record<BenchSize, { users: number; breakdownUsers: number; cities: number }> = {
  full: { users: 20_000, breakdownUsers: 100_000, cities: 50 },
  // 10 cities x 90 ages: 900 buckets of about 200 users each, as at full size.
  small: { users: 5_000, breakdownUsers: 20_000, cities: 10 },
};

/**
 * The figure's privacy configuration: the installation's defaults unless
 * BENCH_PARTICIPATION_BUDGET=off or BENCH_PARTICIPATION_RHO=<number> asks for another, so the
 * next change can be measured on both sides.
 */
function figurePrivacy(): Privacy {
  const privacy: Privacy = {};
  const budget = process.env.BENCH_PARTICIPATION_BUDGET;
  if (budget !== undefined) {
    if (budget !== 'on' && budget !== 'off') {
      throw new Error(`BENCH_PARTICIPATION_BUDGET must be on or off, not "${budget}".`);
    }
    privacy.participationBudget = budget === 'on';
  }
  const rho = process.env.BENCH_PARTICIPATION_RHO;
  if (rho !== undefined) {
    const value = Number(rho);
    if (!(value > 0))
      throw new Error(`BENCH_PARTICIPATION_RHO must be a number > 0, not "${rho}".`);
    privacy.participationRho = value;
  }
  return privacy;
}

function describe(privacy: Privacy, cloak: Cloak): string {
  if (!cloak.budget) return 'participation budget off (what a trusted analyst gets)';
  const rho = cloak.budget.options.rho;
  return `participation budget on, rho ${rho}${privacy.participationRho === undefined ? ' (the default)' : ''}`;
}

/**
 * An installation as configured, minus the release schedule (it only waits for the answer's
 * slot). A fixed noise secret, so that two runs publish the same answers.
 */
async function openInstallation(privacy: Privacy) {
  const dir = mkdtempSync(path.join(os.tmpdir(), 'opencloak-afternoon-'));
  pinNoiseSecret(dir, 15);
  const cloak = await openCloak(
    buildConfig({ dataDir: dir, privacy: { ...privacy, releaseSchedule: false } }),
  );
  return {
    cloak,
    done() {
      cloak.close();
      rmSync(dir, { recursive: true, force: true });
    },
  };
}

async function ask(
  cloak: Cloak,
  orgId: string,
  question: Question,
  keepMemberships: boolean,
): Promise<QuestionScore> {
  const { prefetch, code } = question;
  const result = await cloak.runner.run(orgId, { prefetch, post_processing: { code } });
  const truth = await trueCounts(cloak, orgId, prefetch, code, keepMemberships);
  if (truth.errors > 0 || result.exceptions.length > 0) {
    console.error(`  warning: "${question.name}" raised errors in ${truth.errors} users' runs`);
  }
  return scoreQuestion(question.name, result, truth);
}

async function afternoon(size: BenchSize, privacy: Privacy) {
  const { users, breakdownUsers, cities } = SIZES[size];
  const { cloak, done } = await openInstallation(privacy);
  try {
    for (const table of AFTERNOON_TABLES) await cloak.data.createTable(ORG, table);
    for (const batch of afternoonBatches(users)) await cloak.data.insert(ORG, batch);
    const scores: QuestionScore[] = [];
    for (const question of QUESTIONS) {
      if (question.newVisitsDay !== undefined) {
        await cloak.data.insert(ORG, newVisits(users, question.newVisitsDay));
      }
      scores.push(await ask(cloak, ORG, question, true));
    }
    await cloak.data.createTable(FRESH_ORG, BREAKDOWN_TABLE);
    for (const batch of breakdownBatches(breakdownUsers, cities))
      await cloak.data.insert(FRESH_ORG, batch);
    const breakdown = await ask(cloak, FRESH_ORG, BREAKDOWN, false);
    const summary = summarize(scores, breakdown);
    console.error(
      [
        '',
        `analyst-afternoon, ${describe(privacy, cloak)}: ${users.toLocaleString('en-US')} users, ${QUESTIONS.length} questions in one organisation ('*' not scored; its truth is the users none of whose buckets was published)`,
        formatQuestions(scores),
        `breakdown: ${cities} cities x ${BREAKDOWN_AGES} ages, first task of a fresh organisation`,
        formatQuestions([breakdown]),
        formatSummary(summary, breakdown, breakdownUsers),
        '',
      ].join('\n'),
    );
    const round = (x: number) => Number(x.toFixed(4));
    return {
      value: summary.afternoonWithin,
      unit: 'share within 20%',
      notes: {
        worstAfter10: round(summary.worstLater.within),
        signedErrorLarge: round(summary.largeSignedError),
        breakdownPublished: round(summary.breakdownPublished),
        breakdownError: round(summary.breakdownError),
        targetsMet: Object.values(summary.met).filter(Boolean).length + '/4',
      },
    };
  } finally {
    done();
  }
}

export const analystAfternoonScenario: Scenario = {
  name: 'analyst-afternoon',
  description:
    '25 ordinary questions in one organisation over 20,000 synthetic users, and a 4,500-bucket breakdown in a fresh one: share of true buckets published within 20%',
  better: 'higher',
  targetValue: 0.75,
  deterministic: true,
  sides: {
    // The installation's defaults (or BENCH_PARTICIPATION_* ), against the same anonymizer
    // without the participation budget: the ratio is what the budget leaves of the answers.
    figure: (size) => afternoon(size, figurePrivacy()),
    baseline: (size) => afternoon(size, { participationBudget: false }),
  },
};
