// Runs `opencloak start` as a real process on free ports, for tests that kill, lock or back it up.
import { spawn, type ChildProcess } from 'node:child_process';
import path from 'node:path';

const ROOT = path.resolve(import.meta.dirname, '../..');
export const BIN = path.join(ROOT, 'bin/opencloak.mjs');

export interface ServerProcess {
  child: ChildProcess;
  cloakUrl: string;
  webUrl: string;
  /** Everything the process wrote so far, stdout and stderr. */
  output(): string;
}

export interface ServerStartOptions {
  /** Global options before `start`, e.g. ['--config', file]. */
  globalArgs?: string[];
}

/**
 * The node command line that runs `opencloak` with these arguments: the bin wrapper, which runs
 * the compiled CLI in its own process (so a signal to the child reaches the server itself). It is
 * what users run, and it starts on a third of the CPU that compiling src/ with tsx takes (0.35 s
 * against 1.4 s for `--help`), which the suite's dozens of server and worker processes paid.
 */
export function cliCommand(args: string[]): string[] {
  return [BIN, ...args];
}

const START_ARGS = ['start', '--host', '127.0.0.1', '--web-port', '0', '--cloak-port', '0'];

/** Starts a server; resolves once it listens, rejects with its output if it exits first. */
export function startServerProcess(
  dataDir: string,
  options: ServerStartOptions = {},
): Promise<ServerProcess> {
  const child = spawn(
    process.execPath,
    cliCommand(['--data-dir', dataDir, ...(options.globalArgs ?? []), ...START_ARGS]),
    {
      stdio: ['ignore', 'pipe', 'pipe'],
    },
  );
  let output = '';
  return new Promise((resolve, reject) => {
    const onData = (chunk: Buffer) => {
      output += chunk.toString('utf8');
      const cloak = /cloak API:\s+(https:\/\/\S+)/.exec(output);
      const web = /web REST API:\s+(https:\/\/\S+)/.exec(output);
      if (cloak && web) {
        resolve({
          child,
          cloakUrl: cloak[1] as string,
          webUrl: web[1] as string,
          output: () => output,
        });
      }
    };
    child.stdout?.on('data', onData);
    child.stderr?.on('data', (chunk: Buffer) => (output += chunk.toString('utf8')));
    child.on('exit', (code, signal) =>
      reject(new Error(`server exited (${code ?? signal}) before listening:\n${output}`)),
    );
  });
}

/** Resolves when the process has exited (at once if it already has). */
export function exited(child: ChildProcess): Promise<void> {
  return new Promise((resolve) => {
    if (child.exitCode !== null || child.signalCode !== null) return resolve();
    child.once('exit', () => resolve());
  });
}

/** Stops a server with SIGTERM and waits for it. */
export async function stopServerProcess(server: ServerProcess): Promise<void> {
  const done = exited(server.child);
  server.child.kill('SIGTERM');
  await done;
}
