// Component-test helpers: render into a happy-dom document with React's act().
import { act, type ReactElement } from 'react';
import { createRoot, type Root } from 'react-dom/client';
import type { Table } from './api.ts';

(globalThis as { IS_REACT_ACT_ENVIRONMENT?: boolean }).IS_REACT_ACT_ENVIRONMENT = true;

export interface Rendered {
  container: HTMLElement;
  rerender(element: ReactElement): Promise<void>;
  unmount(): Promise<void>;
}

export async function render(element: ReactElement): Promise<Rendered> {
  const container = document.createElement('div');
  document.body.append(container);
  let root: Root;
  await act(async () => {
    root = createRoot(container);
    root.render(element);
  });
  return {
    container,
    rerender: (next) => act(async () => root.render(next)),
    unmount: async () => {
      await act(async () => root.unmount());
      container.remove();
    },
  };
}

/** The form control whose <label> text contains `text`. */
export function byLabel<T extends HTMLElement = HTMLInputElement>(
  root: HTMLElement,
  text: string,
): T {
  const label = [...root.querySelectorAll('label')].find((l) => l.textContent?.includes(text));
  const control =
    label?.querySelector('input, select, textarea') ??
    (label?.htmlFor ? root.querySelector(`#${CSS.escape(label.htmlFor)}`) : null);
  if (!control) throw new Error(`no control labelled "${text}"`);
  return control as T;
}

export function button(root: HTMLElement, name: string): HTMLButtonElement {
  const found = [...root.querySelectorAll('button')].find(
    (b) => (b.getAttribute('aria-label') ?? b.textContent)?.trim() === name,
  );
  if (!found) throw new Error(`no button "${name}"`);
  return found;
}

export const click = (element: HTMLElement) => act(async () => element.click());

/** Sets a controlled input's value the way a user's typing does, so React sees the change. */
export async function type(
  element: HTMLInputElement | HTMLTextAreaElement | HTMLSelectElement,
  value: string,
) {
  await act(async () => {
    const proto = Object.getPrototypeOf(element) as object;
    Object.getOwnPropertyDescriptor(proto, 'value')!.set!.call(element, value);
    element.dispatchEvent(
      new Event(element instanceof HTMLSelectElement ? 'change' : 'input', { bubbles: true }),
    );
  });
}

/** A table for component tests: visits(page text, ms integer). */
export const VISITS: Table = {
  name: 'visits',
  version: 1,
  columns: [
    { name: 'page', type: 'text' },
    { name: 'ms', type: 'integer' },
  ],
};
