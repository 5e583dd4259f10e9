// TypeScript tasks: type-checked against the organisation's tables and the task API, then transpiled.
import { createRequire } from 'node:module';
import path from 'node:path';
import type ts from 'typescript';
import { AppError } from '../errors/index.ts';
import type { ColumnType } from '../shared/index.ts';

export interface TableShape {
  name: string;
  columns: ReadonlyArray<{ name: string; type: ColumnType }>;
}

const TASK_FILE = '/task/task.ts';
const API_FILE = '/task/task-api.d.ts';
/** Type errors beyond this many are summarised: the first ones are what the analyst fixes. */
const MAX_REPORTED = 5;

/**
 * The compiler, loaded at the first TypeScript task rather than with this module: loading it takes
 * about a second of CPU, and every `opencloak` command (even `--help`) loads this module.
 */
let compiler: typeof ts | undefined;
function typescript(): typeof ts {
  compiler ??= createRequire(import.meta.url)('typescript') as typeof ts;
  return compiler;
}

/** `ts.ScriptTarget.ES2022` as its number, so that naming it does not load the compiler. */
const ES2022 = 9 satisfies ts.ScriptTarget.ES2022;

const OPTIONS: ts.CompilerOptions = {
  target: ES2022,
  lib: ['lib.es2022.d.ts'],
  strict: true,
  noEmit: true,
  types: [],
  noLib: false,
  skipDefaultLibCheck: true,
};

function columnType(type: ColumnType): string {
  if (type === 'boolean') return 'boolean';
  if (type === 'text' || type.startsWith('varchar(')) return 'string';
  return 'number';
}

/** What a task sees, as declarations: the prefetched tables with their column types, and the API. */
export function taskApiDeclarations(tables: readonly TableShape[]): string {
  const rows = tables.map((table) => {
    const columns = table.columns
      .map((c) => `readonly ${JSON.stringify(c.name)}: ${columnType(c.type)} | null;`)
      .join(' ');
    return `readonly ${JSON.stringify(table.name)}: ReadonlyArray<{ ${columns} }>;`;
  });
  return `
type Scalar = string | number | boolean | null | undefined;
declare const tables: { ${rows.join('\n')} };
declare function report_property(label: Scalar, value: Scalar): void;
declare function lookup(table: string, key: string | number): string | undefined;
interface TaskDate { year: number; month: number; day: number; hour: number; min: number; sec: number; wday: number; yday: number }
declare function to_date(seconds: number | string): TaskDate;
declare var accumulator: any;
declare const Utils: {
  quantize(n: number, q: number): number;
  length(x: unknown): number;
  sorted_keys(obj: object, order?: 'asc' | 'desc'): string[];
  sorted_pairs<T>(obj: Record<string, T>, order?: 'asc' | 'desc'): Array<[string, T]>;
  same_arrays(a: readonly unknown[], b: readonly unknown[]): boolean;
};
declare const DateTime: {
  date(t: number | string): string;
  day(t: number | string): string;
  week(t: number | string): number;
  hour_range(t: number | string): string;
};
`;
}

/** The standard library's declaration files are parsed once per process, not once per save. */
const libFiles = new Map<string, ts.SourceFile | undefined>();

function libFile(fileName: string): ts.SourceFile | undefined {
  if (!libFiles.has(fileName)) {
    const ts = typescript();
    const text = ts.sys.readFile(fileName);
    libFiles.set(
      fileName,
      text === undefined ? undefined : ts.createSourceFile(fileName, text, ES2022),
    );
  }
  return libFiles.get(fileName);
}

/**
 * Checks `source` as the body of a task over `tables` and returns the JavaScript to run. Throws
 * INVALID_TASK_CODE listing the first errors as "line L, column C: message", for example a column
 * that the selected tables do not have.
 */
export function compileTypeScriptTask(source: string, tables: readonly TableShape[]): string {
  // A trailing export makes the file a module, so the task's top-level names do not collide with
  // the standard library's globals; it comes after the last line, so positions stay the same.
  const ts = typescript();
  const libDir = path.dirname(ts.getDefaultLibFilePath(OPTIONS));
  const files = new Map([
    [TASK_FILE, `${source}\nexport {};\n`],
    [API_FILE, taskApiDeclarations(tables)],
  ]);
  const host: ts.CompilerHost = {
    getSourceFile: (fileName) => {
      const text = files.get(fileName);
      if (text !== undefined) return ts.createSourceFile(fileName, text, ES2022);
      return fileName.startsWith(libDir) ? libFile(fileName) : undefined;
    },
    getDefaultLibFileName: (options) => ts.getDefaultLibFilePath(options),
    getDefaultLibLocation: () => libDir,
    writeFile: () => undefined,
    getCurrentDirectory: () => '/task',
    getDirectories: () => [],
    fileExists: (fileName) => files.has(fileName) || ts.sys.fileExists(fileName),
    readFile: (fileName) => files.get(fileName) ?? ts.sys.readFile(fileName),
    getCanonicalFileName: (fileName) => fileName,
    useCaseSensitiveFileNames: () => true,
    getNewLine: () => '\n',
  };
  const program = ts.createProgram([TASK_FILE, API_FILE], OPTIONS, host);
  const task = program.getSourceFile(TASK_FILE)!;
  const diagnostics = [
    ...program.getSyntacticDiagnostics(task),
    ...program.getSemanticDiagnostics(task),
  ];
  if (diagnostics.length > 0) {
    const shown = diagnostics.slice(0, MAX_REPORTED).map((d) => {
      const message = ts.flattenDiagnosticMessageText(d.messageText, ' ');
      if (d.start === undefined) return message;
      const { line, character } = task.getLineAndCharacterOfPosition(d.start);
      return `line ${line + 1}, column ${character + 1}: ${message}`;
    });
    const more = diagnostics.length - shown.length;
    const list = `${shown.join('; ')}${more > 0 ? `; and ${more} more` : ''}`;
    throw new AppError('INVALID_TASK_CODE', {
      detail: `TypeScript found ${diagnostics.length} error${diagnostics.length === 1 ? '' : 's'}: ${list}${/[.?!]$/.test(list) ? '' : '.'}`,
    });
  }
  return ts.transpileModule(source, {
    compilerOptions: { target: ES2022, module: ts.ModuleKind.None },
    reportDiagnostics: false,
  }).outputText;
}
