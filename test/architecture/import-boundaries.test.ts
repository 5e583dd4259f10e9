// The layering of src/README.md, enforced: each part imports only what it may.
import { readdirSync, readFileSync, statSync } from 'node:fs';
import path from 'node:path';
import { describe, expect, it } from 'vitest';

const SRC = path.resolve(import.meta.dirname, '../../src');

/** Which top-level parts of src/ each part may import (itself is always allowed). */
const ALLOWED: Record<string, string[]> = {
  shared: [],
  errors: [],
  config: ['errors'],
  anonymizer: ['shared'],
  sandbox: ['shared'],
  pki: ['shared'],
  store: ['errors'],
  http: ['errors', 'pki', 'shared'],
  cloak: ['shared', 'errors', 'config', 'store', 'anonymizer', 'sandbox', 'pki', 'http'],
  air: ['shared', 'errors', 'config', 'store', 'pki', 'http'],
  demo: ['shared', 'config', 'platform', 'api-client'],
  // Knows the servers only through their OpenAPI descriptions (generated types).
  'api-client': [],
  // Metrics, readiness and shutdown: handed checks and events by the platform, knows no part.
  ops: ['shared', 'errors', 'config', 'http'],
  // api-client: the air on another host reaches its cloak with the typed client (remote-cloak-port.ts).
  platform: [
    'air',
    'cloak',
    'config',
    'http',
    'pki',
    'shared',
    'errors',
    'store',
    'ops',
    'api-client',
  ],
  cli: ['platform', 'config', 'errors', 'shared', 'air', 'http', 'demo'],
};

function sourceFiles(dir: string): string[] {
  return readdirSync(dir).flatMap((name) => {
    const full = path.join(dir, name);
    if (statSync(full).isDirectory()) return sourceFiles(full);
    return name.endsWith('.ts') && !name.endsWith('.test.ts') ? [full] : [];
  });
}

function importsOf(file: string): string[] {
  const text = readFileSync(file, 'utf8');
  return [
    ...text.matchAll(
      /(?:import|export)[^'"]*?from\s+['"]([^'"]+)['"]|import\(\s*['"]([^'"]+)['"]\s*\)/g,
    ),
  ].map((m) => (m[1] ?? m[2]) as string);
}

function partOf(file: string): string {
  return path.relative(SRC, file).split(path.sep)[0]!;
}

describe('import boundaries', () => {
  const files = sourceFiles(SRC);

  it('knows every part of src/', () => {
    const parts = new Set(files.map(partOf).filter((p) => !p.endsWith('.md')));
    for (const part of parts) expect(ALLOWED, `src/${part} needs an entry`).toHaveProperty(part);
  });

  it.each(files.map((f) => [path.relative(SRC, f), f]))(
    '%s imports only what its part may',
    (_name, file) => {
      const part = partOf(file);
      for (const specifier of importsOf(file)) {
        if (!specifier.startsWith('.')) continue;
        const target = partOf(path.resolve(path.dirname(file), specifier));
        if (target === part) continue;
        expect(ALLOWED[part], `src/${part} must not import src/${target} (${specifier})`).toContain(
          target,
        );
      }
    },
  );

  it('keeps air code away from the cloak row store, even through a shared part', () => {
    // Nothing the air may import reaches src/cloak: checked transitively over the allowed graph.
    const reachable = new Set<string>();
    const visit = (part: string) => {
      for (const next of ALLOWED[part] ?? []) {
        if (!reachable.has(next)) {
          reachable.add(next);
          visit(next);
        }
      }
    };
    visit('air');
    expect([...reachable]).not.toContain('cloak');
    expect([...reachable]).not.toContain('sandbox');
  });

  it('keeps the job queue in one place: pg-boss only in src/cloak/distributed', () => {
    // Server mode's queue is one concern (docs/server-mode.md); the rest of the cloak sees it
    // only as the ShardFeeder and run cap that distributed/ hands the task runner.
    const queueFolder = path.join(SRC, 'cloak', 'distributed') + path.sep;
    for (const file of files.filter((f) => importsOf(f).includes('pg-boss'))) {
      expect(file.startsWith(queueFolder), `${path.relative(SRC, file)} imports pg-boss`).toBe(
        true,
      );
    }
    // And distributed/ never publishes: anonymizing and the budget's settlement stay in the runner.
    for (const file of files.filter((f) => f.startsWith(queueFolder))) {
      for (const specifier of importsOf(file)) {
        expect(specifier, path.relative(SRC, file)).not.toMatch(
          /participation-budget|budget-settlement|anonymize\.ts/,
        );
      }
    }
  });

  it('keeps the anonymizer pure: no node: module but crypto', () => {
    for (const file of files.filter((f) => partOf(f) === 'anonymizer')) {
      for (const specifier of importsOf(file)) {
        if (specifier.startsWith('.')) continue;
        expect(['node:crypto'], `${path.relative(SRC, file)} imports ${specifier}`).toContain(
          specifier,
        );
      }
    }
  });
});
