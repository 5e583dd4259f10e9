// Rounding: a 1-2-5 step that grows with the noise, half up, never down to zero.
import { describe, expect, it } from 'vitest';
import { roundCount, roundingStep } from './rounding.ts';
import { DEFAULT_ANONYMIZER_SETTINGS, NOISELESS_SETTINGS } from './settings.ts';

const defaults = DEFAULT_ANONYMIZER_SETTINGS;

describe('rounding', () => {
  it('uses the minimum step of 5 while the sd is at most 5, then the 1-2-5 series', () => {
    expect(roundingStep(0, defaults)).toBe(5);
    expect(roundingStep(1.7, defaults)).toBe(5);
    expect(roundingStep(5, defaults)).toBe(5);
    expect(roundingStep(5.01, defaults)).toBe(10);
    expect(roundingStep(10, defaults)).toBe(10);
    expect(roundingStep(11, defaults)).toBe(20);
    expect(roundingStep(33, defaults)).toBe(50);
    expect(roundingStep(333, defaults)).toBe(500);
    expect(roundingStep(1000, defaults)).toBe(1000);
  });

  it('rounds small counts to multiples of 10 (the step at their sd of 10), half up', () => {
    expect(roundCount(14, defaults)).toBe(10);
    expect(roundCount(15, defaults)).toBe(20);
    expect(roundCount(26, defaults)).toBe(30);
    expect(roundCount(1002.4, defaults)).toBe(1000);
  });

  it('picks the step from the noisy count: 100 around 2,000 (sd 63), 1,000 from 33,333 on (the cap)', () => {
    expect(roundCount(2040, defaults)).toBe(2000);
    expect(roundCount(2060, defaults)).toBe(2100);
    expect(roundCount(100_260, defaults)).toBe(100_000);
    expect(roundCount(100_600, defaults)).toBe(101_000);
  });

  it('never publishes zero or a negative count', () => {
    for (const noisy of [-7, -0.1, 0, 0.4, 2.4, 7.6]) expect(roundCount(noisy, defaults)).toBe(10);
  });

  it('rounds to the minimum step of 5 where the noise is no larger', () => {
    const quiet = { ...defaults, noiseSd: 3, sqrtNoise: 0, relativeNoise: 0.01 / 3 };
    expect(roundCount(12.5, quiet)).toBe(15);
    expect(roundCount(2006, quiet)).toBe(2010);
    expect(roundCount(-3, quiet)).toBe(5);
  });

  it('is exact with a step of 1', () => {
    const exact = { ...NOISELESS_SETTINGS, minRoundingStep: 1 };
    for (const n of [1, 3, 7, 1234, 98_765]) expect(roundCount(n, exact)).toBe(n);
  });
});
