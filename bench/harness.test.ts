// The benchmark harness judges targets correctly: ratio and absolute, for throughput and for latency.
import { describe, expect, it } from 'vitest';
import { compare, formatTable, type Scenario, type SideResult } from './harness.ts';

const side = (value: number): SideResult => ({ value, unit: 'ops/s', peakMiB: 50 });
const scenario = (overrides: Partial<Scenario>): Scenario => ({
  name: 's',
  description: '',
  better: 'higher',
  sides: { figure: async () => side(0), baseline: async () => side(0) },
  ...overrides,
});

describe('benchmark harness', () => {
  it('meets a ratio target only at or above it for throughput', () => {
    expect(compare(scenario({ targetRatio: 0.5 }), side(50), side(100))).toMatchObject({
      ratio: 0.5,
      met: true,
    });
    expect(compare(scenario({ targetRatio: 0.5 }), side(49), side(100))).toMatchObject({
      met: false,
    });
  });

  it('needs every target when a scenario has a ratio and an absolute one', () => {
    const both = scenario({ targetRatio: 0.3, targetValue: 20_000 });
    expect(compare(both, side(30_000), side(60_000)).met).toBe(true);
    expect(compare(both, side(19_000), side(38_000)).met).toBe(false);
    expect(compare(both, side(25_000), side(100_000)).met).toBe(false);
  });

  it('reads lower-is-better scenarios the other way round', () => {
    expect(compare(scenario({ better: 'lower', targetRatio: 2 }), side(150), side(100)).met).toBe(
      true,
    );
    expect(compare(scenario({ better: 'lower', targetRatio: 2 }), side(250), side(100)).met).toBe(
      false,
    );
  });

  it('prints MISSED for a missed target and no verdict without one', () => {
    const table = formatTable([
      compare(scenario({ name: 'a', targetRatio: 0.9 }), side(1), side(2)),
      compare(scenario({ name: 'b' }), side(1), side(2)),
    ]);
    expect(table).toMatch(/\| a .*MISSED/);
    expect(table).toMatch(/\| b .*\| - /);
  });
});
