// The task code editor: CodeMirror 6 with JavaScript or SQL highlighting and table/column completion.
import { autocompletion } from '@codemirror/autocomplete';
import { javascript } from '@codemirror/lang-javascript';
import { PostgreSQL, sql } from '@codemirror/lang-sql';
import { Compartment, EditorState } from '@codemirror/state';
import { EditorView } from '@codemirror/view';
import { basicSetup } from 'codemirror';
import { useEffect, useRef } from 'react';
import type { Table, Task } from '../api.ts';
import { taskCompletions } from '../task-completions.ts';

export interface CodeEditorProps {
  value: string;
  onChange(value: string): void;
  /** The tables the prefetch selects (a sql task: every table): their columns are completed. */
  tables: readonly Table[];
  language?: Task['language'];
  label: string;
}

/**
 * Highlighting and completion by language. Scripts complete the task API and columns through
 * taskCompletions; a sql task gets lang-sql's keyword, table and column completion from a schema
 * of the tables (the PostgreSQL dialect: the cloak parses sql tasks as PostgreSQL).
 */
function languageSupport(language: Task['language'], tables: readonly Table[]) {
  if (language === 'sql') {
    const schema = Object.fromEntries(tables.map((t) => [t.name, t.columns.map((c) => c.name)]));
    return [sql({ dialect: PostgreSQL, schema, upperCaseKeywords: true }), autocompletion()];
  }
  return [
    javascript({ typescript: language === 'typescript' }),
    autocompletion({ override: [taskCompletions(tables)] }),
  ];
}

export function CodeEditor({
  value,
  onChange,
  tables,
  language = 'javascript',
  label,
}: CodeEditorProps) {
  const host = useRef<HTMLDivElement>(null);
  const view = useRef<EditorView | null>(null);
  const support = useRef(new Compartment());
  const changed = useRef(onChange);
  changed.current = onChange;

  useEffect(() => {
    const editor = new EditorView({
      parent: host.current!,
      state: EditorState.create({
        doc: value,
        extensions: [
          basicSetup,
          support.current.of(languageSupport(language, tables)),
          EditorView.contentAttributes.of({ 'aria-label': label }),
          EditorView.updateListener.of((update) => {
            if (update.docChanged) changed.current(update.state.doc.toString());
          }),
        ],
      }),
    });
    view.current = editor;
    return () => editor.destroy();
    // The editor is created once; the effects below keep it in step with the props.
  }, []);

  useEffect(() => {
    view.current?.dispatch({
      effects: support.current.reconfigure(languageSupport(language, tables)),
    });
  }, [language, tables]);

  useEffect(() => {
    const editor = view.current;
    if (editor && editor.state.doc.toString() !== value) {
      editor.dispatch({ changes: { from: 0, to: editor.state.doc.length, insert: value } });
    }
  }, [value]);

  return <div className="code-editor" ref={host} data-testid="code-editor" />;
}
