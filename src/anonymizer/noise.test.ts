// The keyed noise source: pure, sticky, domain-separated, and normally distributed.
import { describe, expect, it } from 'vitest';
import { drawBytes, encodeSeed, noise, standardNormal, uniformFromBytes } from './noise.ts';
import { testSecret } from './test-support.ts';

const secret = testSecret('noise');

describe('the keyed noise source', () => {
  it('gives the same draw for the same secret, seed and step', () => {
    expect(standardNormal(secret, ['a', 'b'], 'count')).toBe(
      standardNormal(secret, ['a', 'b'], 'count'),
    );
    expect(noise(secret, ['x'], 'count', 2.5)).toBe(noise(secret, ['x'], 'count', 2.5));
  });

  it('draws independently for another secret, seed or step', () => {
    const base = standardNormal(secret, ['a'], 'count');
    expect(standardNormal(testSecret('other'), ['a'], 'count')).not.toBe(base);
    expect(standardNormal(secret, ['b'], 'count')).not.toBe(base);
    expect(standardNormal(secret, ['a'], 'threshold')).not.toBe(base);
  });

  it('encodes seeds unambiguously', () => {
    const hex = (parts: Parameters<typeof encodeSeed>[0]) =>
      Buffer.from(encodeSeed(parts)).toString('hex');
    expect(hex(['ab', 'c'])).not.toBe(hex(['a', 'bc']));
    expect(hex(['ab'])).not.toBe(hex([new TextEncoder().encode('ab')]));
    expect(hex(['a', ''])).not.toBe(hex(['a']));
    expect(drawBytes(secret, ['ab', 'c'], 's')).not.toEqual(drawBytes(secret, ['a', 'bc'], 's'));
  });

  it('makes uniforms strictly inside (0, 1), even from all-zero or all-one bytes', () => {
    expect(uniformFromBytes(new Uint8Array(8), 0)).toBeGreaterThan(0);
    expect(uniformFromBytes(new Uint8Array(8).fill(255), 0)).toBeLessThan(1);
    expect(uniformFromBytes(new Uint8Array(8).fill(255), 0)).toBe(1 - 2 ** -53);
    expect(Math.log(uniformFromBytes(new Uint8Array(8), 0))).toBeGreaterThan(-Infinity);
  });

  it('draws standard normals: mean near 0, sd near 1, tails as expected', () => {
    const n = 20_000;
    const draws = Array.from({ length: n }, (_, i) => standardNormal(secret, [`s${i}`], 'count'));
    const mean = draws.reduce((a, b) => a + b, 0) / n;
    const sd = Math.sqrt(draws.reduce((a, b) => a + (b - mean) ** 2, 0) / n);
    expect(Math.abs(mean)).toBeLessThan(0.04); // 5.6 standard errors
    expect(Math.abs(sd - 1)).toBeLessThan(0.03);
    const beyond2 = draws.filter((z) => Math.abs(z) > 2).length / n;
    expect(beyond2).toBeGreaterThan(0.035); // 0.0455 expected
    expect(beyond2).toBeLessThan(0.056);
  });

  it('is zero without hashing when the sd is zero, and scales with the sd otherwise', () => {
    expect(noise(new Uint8Array(0), ['a'], 'count', 0)).toBe(0);
    const z = standardNormal(secret, ['a'], 'count');
    expect(noise(secret, ['a'], 'count', 3)).toBeCloseTo(3 * z, 12);
  });

  it('refuses an empty secret', () => {
    expect(() => standardNormal(new Uint8Array(0), ['a'], 'count')).toThrow(/secret/);
  });
});
