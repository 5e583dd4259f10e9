// The sandbox process: answers the host's frames on fd 3, running each user's task in its isolate.
// Plain JavaScript so it starts without a TypeScript loader; a crash here costs one user, not the cloak.
import { BATCH_SEPARATOR, FRAME, readFrame, writeFrame } from '../wire.mjs';
import { GuestCompileError, IsolateRunner, STARVED, wallLimitMs } from './isolate-runner.mjs';
import { startWatchdog } from './watchdog.mjs';

// One end of a socket pair, both ways. The host's end is non-blocking; this one blocks, which is
// all this process needs: it has nothing else to do while it waits for the host.
const HOST = 3;

function lookupViaHost(table, key) {
  writeFrame(HOST, FRAME.lookup, JSON.stringify([table, key]));
  const reply = readFrame(HOST);
  if (reply === undefined) process.exit(0); // the host has gone; nobody waits for this run
  const answer = reply.type === FRAME.lookupAnswer ? JSON.parse(reply.payload) : { error: true };
  if (answer.error) throw new Error('lookup failed on the host');
  return answer.value ?? undefined;
}

async function main() {
  const init = readFrame(HOST);
  if (init === undefined || init.type !== FRAME.init) return;
  const first = JSON.parse(init.payload);
  let runner;
  // One watchdog for the process's life: the host hands a process on only to tasks with the same
  // limits (process-cache.ts), so every task it runs has the budget the watchdog was started with.
  const { timeoutMs } = first.limits;
  // Each run of each user gets its own time budget from the watchdog, past its wall limit.
  const budgetMs = (attempt) => wallLimitMs(timeoutMs, attempt) + Math.max(timeoutMs, 2000);
  const watchdog = await startWatchdog(budgetMs(0));
  const runOne = (input, attempt) => {
    watchdog.runStarted(budgetMs(attempt));
    const outcome = runner.runUser(input, attempt);
    watchdog.runEnded();
    return outcome;
  };
  // The isolate runs on this thread's stack, and how deep a run's recursion gets depends on two
  // depths: where the call into the isolate starts and where the isolate was made (V8 sets its
  // stack limit then). So every isolate is made here, from runEach, and every run starts from
  // runEach (one user alone as a batch of one): otherwise a later user could tell a replayed
  // batch from a whole one, or that an earlier run (a timeout, a heavy run) retired the isolate.
  // runEach is only called from main below, which runs in one synchronous stretch after the
  // await above, so its frame is always at the same depth.
  // The isolate a timeout or a heavy run retired is replaced before the batch is answered, also
  // after its last user: the batch that broke it pays for the new one (about 80 ms), never the
  // next batch, which would otherwise take that much longer because of a user before it
  // (sandbox-next-batch.test.ts), and the process waits for its next batch in the same state
  // whatever its users did. A user whose run was starved of CPU (isolate-runner.mjs) runs again
  // from here as well, on an isolate made here.
  const runEach = (inputs) => {
    const outcomes = [];
    let attempt = 0;
    do {
      runner.prepare();
      while (outcomes.length < inputs.length && runner.session !== undefined) {
        const outcome = runOne(inputs[outcomes.length], attempt);
        if (outcome === STARVED) {
          attempt++;
        } else {
          outcomes.push(outcome);
          attempt = 0;
        }
      }
    } while (outcomes.length < inputs.length);
    runner.prepare();
    return outcomes;
  };
  // A process may serve several tasks of one organisation, one after the other (the host sends a
  // new init frame between them): each gets a new runner, so a new isolate, SES and compartment;
  // nothing of the previous task's isolate survives it.
  for (let frame = init; frame !== undefined;) {
    if (frame.type === FRAME.init) {
      runner?.dispose();
      const config = frame === init ? first : JSON.parse(frame.payload);
      if (config.limits.timeoutMs !== timeoutMs) {
        writeFrame(HOST, FRAME.fatal, 'a sandbox process runs tasks with one time limit only');
        return;
      }
      runner = new IsolateRunner(config, lookupViaHost);
      try {
        runEach([]); // makes the first isolate: the task's compile errors show here
      } catch (error) {
        const compile = error instanceof GuestCompileError;
        writeFrame(
          HOST,
          compile ? FRAME.compileError : FRAME.fatal,
          String(error?.message ?? error),
        );
        return;
      }
      writeFrame(HOST, FRAME.ready, '');
    } else if (frame.type === FRAME.runBatch) {
      const outcomes = runEach(frame.payload.split(BATCH_SEPARATOR));
      // An outcome is the driver's JSON.stringify, so it has no line feed; if one ever had, the
      // host would see the wrong number of outcomes and replay the users one at a time.
      writeFrame(HOST, FRAME.batchDone, outcomes.join(BATCH_SEPARATOR));
    } else {
      break;
    }
    frame = readFrame(HOST);
  }
  runner?.dispose();
}

await main();
process.exit(0);
