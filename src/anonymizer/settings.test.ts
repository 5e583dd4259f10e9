// Anonymizer settings: defaults as documented, frozen, and one validation naming the bad field.
import { describe, expect, it } from 'vitest';
import { countNoiseSd } from './count-noise.ts';
import {
  DEFAULT_ANONYMIZER_SETTINGS,
  NOISELESS_SETTINGS,
  unchargedSettings,
  validateAnonymizerSettings,
} from './settings.ts';

describe('anonymizer settings', () => {
  it('are frozen and valid by default', () => {
    expect(Object.isFrozen(DEFAULT_ANONYMIZER_SETTINGS)).toBe(true);
    expect(Object.isFrozen(NOISELESS_SETTINGS)).toBe(true);
    expect(() => validateAnonymizerSettings(DEFAULT_ANONYMIZER_SETTINGS)).not.toThrow();
    expect(() => validateAnonymizerSettings(NOISELESS_SETTINGS)).not.toThrow();
  });

  it('keep the noiseless floor, with every sd at zero', () => {
    expect(NOISELESS_SETTINGS).toMatchObject({
      absoluteFloor: 2,
      noiseSd: 0,
      relativeNoise: 0,
      maxNoiseSd: 0,
    });
  });

  it('refuse a floor that would publish 1 or 2 users', () => {
    expect(() =>
      validateAnonymizerSettings({ ...DEFAULT_ANONYMIZER_SETTINGS, absoluteFloor: 1 }),
    ).toThrow(/"absoluteFloor" must be an integer >= 2/);
  });

  it('name the field that is wrong', () => {
    const bad = [
      ['lowCountMargin', -1],
      ['noiseSd', Number.NaN],
      ['maxNoiseSd', Infinity],
      ['minRoundingStep', 0.5],
      ['relativeNoise', '0.01'],
    ] as const;
    for (const [name, value] of bad) {
      expect(() =>
        validateAnonymizerSettings({ ...DEFAULT_ANONYMIZER_SETTINGS, [name]: value } as never),
      ).toThrow(new RegExp(`"${name}"`));
    }
  });
});

describe('unchargedSettings', () => {
  it('drops the square-root part for runs nobody pays for, and keeps everything else', () => {
    const uncharged = unchargedSettings(DEFAULT_ANONYMIZER_SETTINGS);
    expect(countNoiseSd(200, DEFAULT_ANONYMIZER_SETTINGS)).toBeCloseTo(19.8, 1);
    expect(countNoiseSd(200, uncharged)).toBe(10);
    expect(countNoiseSd(1000, uncharged)).toBeCloseTo(30, 6);
    expect({ ...uncharged, sqrtNoise: DEFAULT_ANONYMIZER_SETTINGS.sqrtNoise }).toEqual(
      DEFAULT_ANONYMIZER_SETTINGS,
    );
    expect(unchargedSettings(uncharged)).toBe(uncharged);
  });
});
