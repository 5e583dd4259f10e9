#!/usr/bin/env node
// The opencloak command: runs src/cli/main.ts with the Node flags the sandbox needs.
// isolated-vm on Node 20 needs --no-node-snapshot; tsx runs the TypeScript sources directly.
// The command runs in a child process, so it must not outlive this one: signals are passed on,
// and an IPC channel lets the child see this process end, however it ends (kill -9 included;
// src/cli/parent-watch.ts).
import { spawn } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import path from 'node:path';

const root = path.dirname(path.dirname(fileURLToPath(import.meta.url)));
// Resolved from here, not from the caller's working directory, so the command works anywhere.
const tsx = import.meta.resolve('tsx');
const child = spawn(
  process.execPath,
  [
    '--no-node-snapshot',
    '--import',
    tsx,
    path.join(root, 'src/cli/main.ts'),
    ...process.argv.slice(2),
  ],
  { stdio: ['inherit', 'inherit', 'inherit', 'ipc'] },
);
// The channel only watches for this process's end; it must not keep either process alive.
child.channel?.unref();
for (const signal of ['SIGINT', 'SIGTERM', 'SIGHUP']) {
  process.on(signal, () => child.kill(signal));
}
child.on('exit', (code, signal) => {
  process.exitCode = code ?? (signal ? 1 : 0);
});
