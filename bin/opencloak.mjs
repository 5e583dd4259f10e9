#!/usr/bin/env node
// The opencloak command: runs the compiled CLI (dist/cli/opencloak.mjs), building it first when it
// is missing or older than src/ (scripts/build.mjs), so a fresh clone and an edited tree both work.
// It runs in this process: nothing is compiled at run time, and only the sandbox's own processes
// need --no-node-snapshot (for isolated-vm), which sandbox-process.ts gives them.
import { BUILT_CLI, ensureBuild } from '../scripts/build.mjs';
import { pathToFileURL } from 'node:url';

await ensureBuild();
await import(pathToFileURL(BUILT_CLI).href);
