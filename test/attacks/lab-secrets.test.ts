// The attack lab's secrets: fixed by default (the documented kappas), drawn from ATTACK_SECRET otherwise.
import { describe, expect, it } from 'vitest';
import { labSecrets } from './lab.ts';

describe("the attack lab's secrets", () => {
  it('are the fixed ones the documented measurements used when no secret is given', () => {
    // '' as ATTACK_SECRET= (unset reads the environment, which attacks:secrets sets).
    const secrets = labSecrets('');
    expect(secrets.runner).toEqual(new Uint8Array(32).fill(7));
    expect(secrets.installation).toBeUndefined();
    expect(secrets.truthSeed).toBe(0x5eed);
  });

  it('are drawn from the given text: the same text the same secrets, another text others', () => {
    const one = labSecrets('one');
    expect(labSecrets('one')).toEqual(one);
    const two = labSecrets('two');
    for (const secrets of [one, two]) {
      expect(secrets.runner).toHaveLength(32);
      expect(secrets.installation).toHaveLength(32);
      expect(Buffer.from(secrets.runner).equals(Buffer.from(secrets.installation!))).toBe(false);
    }
    expect(Buffer.from(one.runner).equals(Buffer.from(two.runner))).toBe(false);
    expect(Buffer.from(one.installation!).equals(Buffer.from(two.installation!))).toBe(false);
    expect(one.truthSeed).not.toBe(two.truthSeed);
    expect(one.runner).not.toEqual(labSecrets('').runner);
  });
});
