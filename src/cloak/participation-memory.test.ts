// A budgeted run holds the same memory for 50,000 users as for 400,000: per-user state goes to disk past a fixed size.
import { describe, expect, it } from 'vitest';
import { openSqliteDb } from '../store/index.ts';
import { anonymize, DEFAULT_ANONYMIZER_SETTINGS, userKey } from '../anonymizer/index.ts';
import { exposedGc } from './data/test-support.ts';
import { ParticipationBudget } from './participation-budget.ts';

const gc = exposedGc();
const SECRET = new Uint8Array(32).fill(1);
/** A small in-memory limit, so that both sizes below spill and the test stays quick. */
const MEMORY_BYTES = 256 * 1024;
const MIB = 1024 * 1024;
/** Readings taken during collection, evenly spaced. */
const SAMPLES = 8;

/** JavaScript heap plus typed-array memory still referenced after a full collection. */
function retained(): number {
  gc();
  const { heapUsed, arrayBuffers } = process.memoryUsage();
  return heapUsed + arrayBuffers;
}

/**
 * One run over `users` users in a fixed set of 450 buckets (so only the users change), each of at
 * least 125 users (so each is published: its noisy count must reach 43), through collection,
 * settlement and anonymization; returns the most memory retained at those steps.
 */
async function peakRetained(users: number): Promise<number> {
  const db = openSqliteDb(':memory:');
  try {
    const budget = new ParticipationBudget(db, {
      rho: 1,
      memoryBytes: MEMORY_BYTES,
      secret: SECRET,
    });
    const before = retained();
    const run = await budget.startRun('org', DEFAULT_ANONYMIZER_SETTINGS);
    let peak = 0;
    for (let u = 0; u < users; u++) {
      const key = userKey(SECRET, `user${u}`);
      run.addProperty('age', String(u % 10), key);
      run.addProperty('city', String(u % 40), key);
      run.addProperty('n', String(u % 400), key);
      // The same number of samples for every size, so that the larger run does not get more
      // chances at a high reading from heap noise alone.
      if (u % (users / SAMPLES) === users / SAMPLES - 1) peak = Math.max(peak, retained() - before);
    }
    peak = Math.max(peak, retained() - before);
    const settled = await run.settle();
    peak = Math.max(peak, retained() - before);
    const result = anonymize(settled.aggregator, SECRET, DEFAULT_ANONYMIZER_SETTINGS, {
      memberships: settled.memberships,
    });
    expect(result.buckets.length).toBe(450);
    peak = Math.max(peak, retained() - before);
    run.close();
    return peak;
  } finally {
    await db.close();
  }
}

describe('participation budget memory', () => {
  it('retains no more for 400,000 users than for 50,000', async () => {
    const small = await peakRetained(50_000);
    const large = await peakRetained(400_000);
    // Kept in memory, 350,000 more users are 44 MiB (measured with no spilling). Heap readings
    // of the same run vary by about 2 MiB from one try to the next (seen from -0.03 to 2.3 MiB
    // here, under load in CI), so the bounds leave that room and still fail at a seventh of
    // per-user growth.
    expect(large - small).toBeLessThan(6 * MIB);
    expect(large).toBeLessThan(12 * MIB);
  }, 120_000);
});
