// The made-up users of "try it" and what a task did for each: shared by the runner and both task languages.
import type { CellValue } from '../sandbox/index.ts';

export interface TestUserInput {
  id: string;
  tables: Record<string, Array<Record<string, CellValue>>>;
}

export type TestUserResult =
  | { id: string; ok: true; properties: Array<[label: string, value: string]> }
  | { id: string; ok: false; error: string };
