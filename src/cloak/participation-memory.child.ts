// Child process for participation-memory.test.ts: the most memory one budgeted run retains, for
// 50,000 and for 400,000 users, printed as one line of JSON. A process of its own, because a test
// worker's heap also holds what earlier test files left in it (isolate: false).
import { openSqliteDb } from '../store/index.ts';
import { anonymize, DEFAULT_ANONYMIZER_SETTINGS, userKey } from '../anonymizer/index.ts';
import { exposedGc } from './data/test-support.ts';
import { ParticipationBudget } from './participation-budget.ts';

const gc = exposedGc();
const SECRET = new Uint8Array(32).fill(1);
/** A small in-memory limit, so that both sizes below spill and the test stays quick. */
const MEMORY_BYTES = 256 * 1024;
/** Readings taken during collection, evenly spaced. */
const SAMPLES = 8;

/**
 * JavaScript heap plus typed-array memory still referenced after a full collection. Collected
 * twice: V8 frees dead array buffers' memory on a background thread after a collection, and the
 * next one waits for that; on a loaded machine one collection once read 12 MiB of buffers that
 * the budget's settlement had already dropped.
 */
function retained(): number {
  gc();
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
    if (result.buckets.length !== 450) {
      throw new Error(`expected 450 published buckets, got ${result.buckets.length}`);
    }
    peak = Math.max(peak, retained() - before);
    run.close();
    return peak;
  } finally {
    await db.close();
  }
}

const small = await peakRetained(50_000);
const large = await peakRetained(400_000);
process.stdout.write(`${JSON.stringify({ small, large })}\n`);
