// What the suite's scoring gives an attacker who gets the budget's whole bound: one Gaussian look per victim.
//
// node --import tsx test/attacks/bound-simulation.ts [victims] [draws]
//
// Evidence per victim is bit - 0.5 plus Gaussian noise of sd s (one look at sd s, what the
// participation budget's total allows however looks are combined), scored as the suite scores an
// attack (scoring.ts: the best cut of at least 20 guesses). docs/anonymization.md, "Why sd 10,
// 1.4 sqrt(n), 3% and 0.02", quotes its table.
import { randomInt } from 'node:crypto';
import { guessesFromEvidence, scoreAttack } from './scoring.ts';

const victims = Number(process.argv[2] ?? 1000);
const draws = Number(process.argv[3] ?? 400);

/** A standard normal from the platform's random source (Box-Muller). */
function normal(): number {
  const u = (randomInt(1, 2 ** 47) as number) / 2 ** 47;
  const v = (randomInt(0, 2 ** 47) as number) / 2 ** 47;
  return Math.sqrt(-2 * Math.log(u)) * Math.cos(2 * Math.PI * v);
}

for (const sd of [3.0, 3.5, 3.9, 4.4, 5.0, Infinity]) {
  const kappas: number[] = [];
  for (let d = 0; d < draws; d++) {
    const truth = Array.from({ length: victims }, () => randomInt(2) as 0 | 1);
    const evidence = truth.map((bit) => (sd === Infinity ? normal() : bit - 0.5 + sd * normal()));
    kappas.push(scoreAttack(guessesFromEvidence(evidence), truth).kappa);
  }
  kappas.sort((a, b) => a - b);
  const atBar = kappas.filter((k) => k >= 0.5).length / draws;
  console.log(
    `one look at sd ${sd === Infinity ? 'infinite (no information)' : sd}: median kappa ` +
      `${kappas[Math.floor(draws / 2)]!.toFixed(3)}, ${(100 * atBar).toFixed(1)}% of ${draws} draws ` +
      `of ${victims} victims at or above 0.5`,
  );
}
