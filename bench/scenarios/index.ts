// Every benchmark scenario, by name.
import type { Scenario } from '../harness.ts';
import { anonymizerScenario } from './anonymizer.ts';
import { analystAfternoonScenario } from './analyst-afternoon.ts';
import { anonymizerUtilityScenario } from './anonymizer-utility.ts';
import { batchTaskScenario } from './batch-task.ts';
import { cliScenario } from './cli.ts';
import { coordinatorScenario } from './coordinator.ts';
import { importScenario } from './import.ts';
import { ingestScenario } from './ingest.ts';
import { resultsApiScenario } from './results-api.ts';
import { scaleOutScenario } from './scale-out.ts';
import { resultsApiBusyScenario } from './results-api-busy.ts';
import { sqlCountScenario } from './sql-count.ts';
import { smallRunsScenario } from './small-runs.ts';
import { sqlTaskPostgresScenario, sqlTaskScenario } from './sql-task.ts';

export const SCENARIOS: Scenario[] = [
  ingestScenario,
  importScenario,
  batchTaskScenario('batch-task', { small: 20_000, full: 100_000 }),
  batchTaskScenario('batch-task-1m', { small: 100_000, full: 1_000_000 }),
  resultsApiScenario,
  resultsApiBusyScenario,
  sqlCountScenario,
  sqlTaskScenario,
  sqlTaskPostgresScenario,
  anonymizerScenario,
  anonymizerUtilityScenario,
  analystAfternoonScenario,
  cliScenario,
  scaleOutScenario,
  coordinatorScenario,
  smallRunsScenario,
];
