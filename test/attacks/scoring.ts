// Scores an attack on a secret bit per victim: kappa = (conf - prior) / (1 - prior) by coverage.

/** One victim's guess: the guessed bit and how sure the attacker is (larger is surer). */
export interface Guess {
  victim: number;
  bit: 0 | 1;
  confidence: number;
}

export interface AttackScore {
  /** The largest kappa over every confidence cut that guesses at least `minGuesses` victims. */
  kappa: number;
  /** Fraction of victims guessed at that cut. */
  coverage: number;
  /** Fraction of those guesses that were right. */
  conf: number;
  /** What guessing from the base rate alone gets right for the same guesses. */
  prior: number;
  victims: number;
}

/** The brief's bar: an attack fails when kappa < 0.5 wherever it guesses at least 0.1% of victims. */
export const KAPPA_BAR = 0.5;
export const MIN_COVERAGE = 0.001;
/**
 * Below this many guesses a kappa is luck (with 20 guesses at a true precision of 0.6, 16 right
 * happens about 5% of the time), so cuts with fewer guesses are not scored. With 300 victims,
 * 0.1% is one victim; a larger benchmark lowers this floor to the 0.1% of the brief.
 */
export const MIN_GUESSES = 20;

/**
 * Sorts guesses by confidence and scores every cut between distinct confidences (ties are
 * guessed together: the attacker cannot tell them apart), returning the attacker's best cut.
 * The prior of a guess is the base rate of the guessed bit among all victims.
 */
export function scoreAttack(guesses: readonly Guess[], truth: readonly (0 | 1)[]): AttackScore {
  const victims = truth.length;
  const ones = truth.filter((b) => b === 1).length / victims;
  const sorted = [...guesses].sort((a, b) => b.confidence - a.confidence);
  const minGuesses = Math.max(MIN_GUESSES, Math.ceil(MIN_COVERAGE * victims));
  let best: AttackScore = { kappa: -Infinity, coverage: 0, conf: 0, prior: 0, victims };
  let right = 0;
  let priorSum = 0;
  for (let i = 0; i < sorted.length; i++) {
    const g = sorted[i]!;
    if (truth[g.victim] === g.bit) right++;
    priorSum += g.bit === 1 ? ones : 1 - ones;
    const k = i + 1;
    const atCut = k === sorted.length || sorted[k]!.confidence !== g.confidence;
    if (!atCut || k < minGuesses) continue;
    const conf = right / k;
    const prior = priorSum / k;
    const kappa = prior >= 1 ? 0 : (conf - prior) / (1 - prior);
    // Ties keep the larger coverage: the attacker would rather guess more victims.
    if (kappa >= best.kappa) best = { kappa, coverage: k / victims, conf, prior, victims };
  }
  return best;
}

/** Guesses from a signed piece of evidence per victim: positive says 1, and |evidence| is the confidence. */
export function guessesFromEvidence(evidence: readonly number[]): Guess[] {
  return evidence.map((e, victim) => ({ victim, bit: e > 0 ? 1 : 0, confidence: Math.abs(e) }));
}

/** Formats a score for the test log, so a run shows the measured numbers. */
export function describeScore(name: string, s: AttackScore): string {
  return `${name}: kappa ${s.kappa.toFixed(3)} at coverage ${(s.coverage * 100).toFixed(1)}% (conf ${s.conf.toFixed(3)}, prior ${s.prior.toFixed(3)}, ${s.victims} victims)`;
}

/**
 * The chance that a victim whose bit is 1 shows a larger value than one whose bit is 0 (ties count
 * half): 0.5 when the value says nothing, whichever cut an attacker would pick. A steadier reading
 * of a weak signal than the best cut's kappa, which at 100 victims moves by 0.2 from luck alone.
 */
export function areaUnderCurve(values: readonly number[], truth: readonly (0 | 1)[]): number {
  const ones = values.filter((_, i) => truth[i] === 1);
  const zeros = values.filter((_, i) => truth[i] === 0);
  let wins = 0;
  for (const a of ones) for (const b of zeros) wins += a > b ? 1 : a === b ? 0.5 : 0;
  return wins / (ones.length * zeros.length);
}
