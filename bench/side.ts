// Runs one side of one scenario in this process and prints its result as a JSON line (see harness.ts).
import { SCENARIOS } from './scenarios/index.ts';
import type { BenchSize } from './harness.ts';

const [name, side, size] = process.argv.slice(2) as [string, 'figure' | 'baseline', BenchSize];
const scenario = SCENARIOS.find((s) => s.name === name);
if (!scenario) throw new Error(`unknown scenario ${name}`);
const result = await scenario.sides[side](size);
const peakMiB = process.resourceUsage().maxRSS / 1024;
process.stdout.write(`${JSON.stringify({ ...result, peakMiB })}\n`);
process.exit(0);
