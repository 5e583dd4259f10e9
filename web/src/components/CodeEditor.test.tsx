// @vitest-environment happy-dom
// The task code editor: CodeMirror with the task API and the selected tables' columns completed.
import { CompletionContext, type CompletionResult } from '@codemirror/autocomplete';
import { EditorState } from '@codemirror/state';
import { afterEach, describe, expect, it } from 'vitest';
import type { Table } from '../api.ts';
import { taskCompletions } from '../task-completions.ts';
import { render, type Rendered, VISITS } from '../testing.tsx';
import { CodeEditor } from './CodeEditor.tsx';

const TABLES: Table[] = [VISITS];

/** What completion offers with the cursor at the end of `code`. */
function complete(code: string, explicit = false): string[] {
  const state = EditorState.create({ doc: code });
  const result = taskCompletions(TABLES)(
    new CompletionContext(state, code.length, explicit),
  ) as CompletionResult | null;
  return result ? result.options.map((o) => o.label) : [];
}

describe('code editor', () => {
  let view: Rendered | undefined;
  afterEach(() => view?.unmount());

  it('completes the task API, the selected tables, and their columns', () => {
    expect(complete('repo')).toContain('report_property');
    expect(complete('Date')).toContain('DateTime.week');
    expect(complete('tables.')).toEqual(['visits']);
    expect(complete('tables.visits[0].')).toEqual(['page', 'ms']);
    expect(complete('for (const row of tables.visits) {\n  row.')).toEqual(['page', 'ms']);
    expect(complete('', false)).toEqual([]);
    expect(complete('', true)).toContain('tables');
  });

  it('shows the code with JavaScript highlighting, an accessible name, and reports edits', async () => {
    const changes: string[] = [];
    const code = 'report_property("page", tables.visits[0].page);';
    view = await render(
      <CodeEditor
        label="Task code"
        value={code}
        tables={TABLES}
        onChange={(v) => changes.push(v)}
      />,
    );
    const content = view.container.querySelector('.cm-content')!;
    expect(content.getAttribute('aria-label')).toBe('Task code');
    expect(content.textContent).toBe(code);
    // Highlighting: the string literal is its own styled token.
    const tokens = [...content.querySelectorAll('span')].map((s) => s.textContent);
    expect(tokens).toContain('"page"');

    await view.rerender(
      <CodeEditor
        label="Task code"
        value="// replaced"
        tables={TABLES}
        onChange={(v) => changes.push(v)}
      />,
    );
    expect(view.container.querySelector('.cm-content')!.textContent).toBe('// replaced');
    expect(changes.at(-1)).toBe('// replaced');
  });

  it('highlights a sql task as SQL: keywords, strings and numbers are tokens of their own', async () => {
    const code =
      "SELECT page, count(DISTINCT user) FROM visits WHERE page = 'home' AND ms > 100 GROUP BY page";
    view = await render(
      <CodeEditor
        label="Task code"
        value={code}
        tables={TABLES}
        language="sql"
        onChange={() => {}}
      />,
    );
    const content = view.container.querySelector('.cm-content')!;
    expect(content.textContent).toBe(code);
    const styled = (text: string) =>
      [...content.querySelectorAll('span')].find((s) => s.textContent === text)?.className ?? '';
    for (const token of ['SELECT', 'FROM', 'WHERE', "'home'", '100']) {
      expect(styled(token), token).not.toBe('');
    }
    // Keywords and strings are styled differently, as a SQL grammar tells them apart.
    expect(styled('SELECT')).not.toBe(styled("'home'"));
  });
});
