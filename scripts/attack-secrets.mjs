// `npm run attacks:secrets [-- --secrets a,b,c] [--full] [test files...]`: the attack suite once per secret, and each attack's kappa under each.
//
// Every attack's kappa depends on the noise secret and on which victims hold the secret bit: a
// suite measured under one fixed secret could pass on a lucky draw. ATTACK_SECRET=<text> makes the
// lab draw both from that text (test/attacks/lab.ts, labSecrets); this runs the suite under the
// fixed secret ("fixed", what `npm test` measures) and the given ones, one after the other, and
// prints a table of every scored line ("<attack>: kappa <k> at coverage ...") with the largest
// kappa of each row. `--full` runs each at `npm run attacks:full`'s sizes. The exit code is
// non-zero when any run failed: an attack at or above the bar fails its own test.
import { spawnSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
const args = process.argv.slice(2);
const secretsAt = args.indexOf('--secrets');
const secrets = ['', ...(secretsAt >= 0 ? args[secretsAt + 1].split(',') : ['one', 'two'])];
const full = args.includes('--full');
const files = args.filter(
  (a, i) => !a.startsWith('--') && !(secretsAt >= 0 && i === secretsAt + 1),
);
const targets = files.length > 0 ? files : ['test/attacks'];

/** attacks:full's sizes, read from package.json so that there is one list. */
function fullSizes() {
  const script = JSON.parse(readFileSync(path.join(root, 'package.json'), 'utf8')).scripts[
    'attacks:full'
  ];
  return Object.fromEntries(
    [...script.matchAll(/\b(ATTACK_[A-Z_]+)=(\S+)/g)].map((m) => [m[1], m[2]]),
  );
}

const SCORE = /^(.*?): kappa (-?\d+\.\d+) at coverage/;
// eslint-disable-next-line no-control-regex
const ANSI = /\u001b\[[0-9;]*m/g;
const kappas = new Map();
let failed = false;
for (const [column, secret] of secrets.entries()) {
  const name = secret === '' ? 'fixed' : secret;
  console.error(`attacks under secret "${name}" (${column + 1} of ${secrets.length})...`);
  const run = spawnSync(
    'npx',
    [
      'vitest',
      'run',
      ...targets,
      ...(full ? ['--testTimeout', '7200000', '--hookTimeout', '7200000'] : []),
    ],
    {
      cwd: root,
      encoding: 'utf8',
      maxBuffer: 256 * 1024 * 1024,
      env: { ...process.env, ...(full ? fullSizes() : {}), ATTACK_SECRET: secret },
    },
  );
  if (run.status !== 0) {
    failed = true;
    console.error(`  the run under "${name}" failed (exit ${run.status}); its output:`);
    console.error(`${run.stdout}${run.stderr}`.replace(ANSI, '').split('\n').slice(-40).join('\n'));
  }
  for (const line of `${run.stdout}`.replace(ANSI, '').split('\n')) {
    const match = SCORE.exec(line.trim());
    if (!match) continue;
    // Timed attacks name the run's own figures ("median run 2107.4 ms, epoch 3"): one row each.
    const attack = match[1].replace(/\([^()]*\bms\b[^()]*\)/g, (timings) =>
      timings.replace(/\d+(\.\d+)?/g, '#'),
    );
    const row = kappas.get(attack) ?? new Array(secrets.length).fill(undefined);
    // An attack scored twice in one run (two tests print it) keeps its larger kappa.
    row[column] = Math.max(row[column] ?? -Infinity, Number(match[2]));
    kappas.set(attack, row);
  }
}

const names = secrets.map((s) => (s === '' ? 'fixed' : s));
console.log(`| attack | ${names.join(' | ')} | largest |`);
console.log(`|---|${names.map(() => '---').join('|')}|---|`);
for (const [attack, row] of [...kappas].sort(([a], [b]) => a.localeCompare(b))) {
  const known = row.filter((k) => k !== undefined);
  const cells = row.map((k) => (k === undefined ? '-' : k.toFixed(3)));
  console.log(`| ${attack} | ${cells.join(' | ')} | ${Math.max(...known).toFixed(3)} |`);
}
process.exit(failed ? 1 : 0);
