// The task code editor: CodeMirror 6 with JavaScript highlighting and task-API/column completion.
import { autocompletion } from '@codemirror/autocomplete';
import { javascript } from '@codemirror/lang-javascript';
import { Compartment, EditorState } from '@codemirror/state';
import { EditorView } from '@codemirror/view';
import { basicSetup } from 'codemirror';
import { useEffect, useRef } from 'react';
import type { Table } from '../api.ts';
import { taskCompletions } from '../task-completions.ts';

export interface CodeEditorProps {
  value: string;
  onChange(value: string): void;
  /** The tables the prefetch selects: their columns are completed. */
  tables: readonly Table[];
  typescript?: boolean;
  label: string;
}

export function CodeEditor({
  value,
  onChange,
  tables,
  typescript = false,
  label,
}: CodeEditorProps) {
  const host = useRef<HTMLDivElement>(null);
  const view = useRef<EditorView | null>(null);
  const completion = useRef(new Compartment());
  const language = useRef(new Compartment());
  const changed = useRef(onChange);
  changed.current = onChange;

  useEffect(() => {
    const editor = new EditorView({
      parent: host.current!,
      state: EditorState.create({
        doc: value,
        extensions: [
          basicSetup,
          language.current.of(javascript({ typescript })),
          completion.current.of(autocompletion({ override: [taskCompletions(tables)] })),
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
      effects: completion.current.reconfigure(
        autocompletion({ override: [taskCompletions(tables)] }),
      ),
    });
  }, [tables]);

  useEffect(() => {
    view.current?.dispatch({ effects: language.current.reconfigure(javascript({ typescript })) });
  }, [typescript]);

  useEffect(() => {
    const editor = view.current;
    if (editor && editor.state.doc.toString() !== value) {
      editor.dispatch({ changes: { from: 0, to: editor.state.doc.length, insert: value } });
    }
  }, [value]);

  return <div className="code-editor" ref={host} data-testid="code-editor" />;
}
