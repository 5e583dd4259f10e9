// Task code that cannot run is a TaskCompileError at compile time, with the line and column V8 reports.
import { describe, expect, it } from 'vitest';
import { compileTask, TaskCompileError } from './index.ts';

function compileError(code: string): TaskCompileError {
  try {
    compileTask(code).dispose();
  } catch (error) {
    if (error instanceof TaskCompileError) return error;
    throw error;
  }
  throw new Error('expected a TaskCompileError');
}

describe('compile errors', () => {
  it('gives line and column of a syntax error', () => {
    const error = compileError('report_property("a", 1);\nlet x = ;');
    expect(error).toBeInstanceOf(Error);
    expect(error.name).toBe('TaskCompileError');
    expect(error.message).toBe("SyntaxError: Unexpected token ';' (line 2, column 9)");
    expect([error.line, error.column]).toEqual([2, 9]);
  });

  it('points at the end of the code when something is left open', () => {
    const error = compileError('if (true) {\n  report_property("a", 1);');
    expect(error.message).toBe('SyntaxError: Unexpected end of input (line 2, column 27)');
    expect([error.line, error.column]).toEqual([2, 27]);
  });

  it('applies strict mode, as the sandbox does', () => {
    expect(compileError('let a = 1;\n  delete a;').message).toBe(
      'SyntaxError: Delete of an unqualified identifier in strict mode. (line 2, column 10)',
    );
    expect(compileError('with (tables) {}').message).toMatch(
      /^SyntaxError: Strict mode code may not include a with statement/,
    );
  });

  it('rejects a top-level return, which would skip handing back the accumulator', () => {
    expect(compileError('report_property("a", 1);\nreturn;').message).toBe(
      'SyntaxError: Illegal return statement (line 2, column 1)',
    );
  });

  it('rejects code that would close the function body and run at compile time', () => {
    expect(compileError('}); globalThis.x = 1; (function () {').line).toBe(1);
  });

  it('rejects redeclaring a name the task is given', () => {
    expect(compileError('const x = 1;\nlet tables = [];').message).toBe(
      "SyntaxError: Identifier 'tables' has already been declared (line 2, column 5)",
    );
  });

  it('rejects what SES refuses anywhere in the source, with where it is', () => {
    const html = compileError('let n = 3;\nwhile (n-->0) {}');
    expect(html.message).toMatch(
      /^SyntaxError: the sandbox rejects '<!--' and '-->'.*\(line 2, column 9\)$/,
    );
    const inString = compileError('report_property("x", "see import(\'a\')");');
    expect(inString.message).toMatch(/dynamic import is not available.*\(line 1, column 27\)$/);
  });

  it('accepts valid code without starting a sandbox', () => {
    const program = compileTask('for (const r of tables.t) report_property("n", r.n);');
    program.dispose();
  });
});
