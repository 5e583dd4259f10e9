// Progress channel: a run's "users done" over the web REST API, for a filter only the victim can pass.
import { afterAll, describe, expect, it } from 'vitest';
import type { TestKey } from '../support/https-client.ts';
import { openLab, type Lab } from './lab.ts';
import { describeScore, guessesFromEvidence, KAPPA_BAR, scoreAttack } from './scoring.ts';

const COMPANIONS = 2;
/**
 * One background run per victim. 40 in `npm test` (at least the scorer's 20 guesses): the defence
 * shows as every run reporting the same progress, which 40 runs show as well as 200 (a leak shows
 * as kappa 1.0 at any size), and each run waits for its release point, a second or more on a
 * loaded machine (100 runs took 38 to 119 s in the suite). `npm run attacks:full` runs 1,000.
 */
const VICTIMS = Number(process.env.ATTACK_PROGRESS_VICTIMS ?? 40);
const TASK = 'report_property("g", "all");';
/**
 * A guard against hanging, not a measurement: each run waits for its release point, which grows
 * (to seconds) while a busy machine keeps runs from fitting their slots.
 */
const TIMEOUT_MS = VICTIMS * 20_000 + 60_000;

/** A filter that keeps the victim of group g only if their bit is 1: 0 or 1 users run. */
const victimWithBit = (g: number) => [{ $$grp: { $eq: g } }, { $$s: { $eq: 1 } }];

interface Progress {
  users_done: number;
  users_total: number;
  state: string;
}

/** Starts each victim's run in the background and reads the run's progress once it has ended. */
async function attack(lab: Lab) {
  const key: TestKey = await lab.inst.issueKey(lab.orgId, 'web_api');
  const final: Progress[] = [];
  for (let g = 0; g < VICTIMS; g++) {
    const created = await lab.inst.web('/api/tasks', {
      key,
      body: {
        name: `victim ${g}`,
        code: TASK,
        prefetch: [{ table: 't', where: victimWithBit(g) }],
      },
    });
    const token = created.json.task.token as string;
    const started = await lab.inst.web(`/api/tasks/${token}/run`, { key, body: { wait: false } });
    const runUrl = `/api/tasks/${token}/runs/${started.json.run.id}`;
    let run: Progress;
    do {
      await new Promise((resolve) => setTimeout(resolve, 20));
      run = (await lab.inst.web(runUrl, { key })).json.run;
    } while (run.state === 'running');
    expect(run.state).toBe('completed');
    final.push(run);
  }
  const evidence = final.map((run) => run.users_done - 0.5);
  return { score: scoreAttack(guessesFromEvidence(evidence), lab.truth), final };
}

describe('progress-channel attack', () => {
  const labs: Lab[] = [];
  const open = async (releaseSchedule: boolean) => {
    const lab = await openLab({
      companions: COMPANIONS,
      victims: VICTIMS,
      timed: true,
      config: { privacy: { releaseSchedule } },
    });
    labs.push(lab);
    return lab;
  };
  afterAll(() => Promise.all(labs.map((lab) => lab.stop())));

  it(
    'fails: a run reports progress from the clock, and all users at its end',
    { timeout: TIMEOUT_MS },
    async () => {
      const { score, final } = await attack(await open(true));
      console.log(describeScore('progress channel', score));
      expect(new Set(final.map((run) => `${run.users_done}/${run.users_total}`)).size).toBe(1);
      expect(score.kappa).toBeLessThan(KAPPA_BAR);
    },
  );

  it(
    'succeeds without the release schedule (the attack is real)',
    { timeout: TIMEOUT_MS },
    async () => {
      const { score } = await attack(await open(false));
      console.log(describeScore('progress channel, no schedule', score));
      expect(score.kappa).toBeGreaterThanOrEqual(KAPPA_BAR);
    },
  );
});
