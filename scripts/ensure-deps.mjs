// Installs the npm dependencies when they are missing or older than package-lock.json, so that
// `npm start` and `npm test` work on a fresh clone without a separate install step.
import { execSync } from 'node:child_process';
import { existsSync, statSync } from 'node:fs';

const marker = 'node_modules/.package-lock.json';
const stale =
  !existsSync(marker) ||
  (existsSync('package-lock.json') &&
    statSync('package-lock.json').mtimeMs > statSync(marker).mtimeMs);
if (stale) {
  console.log(
    'Installing dependencies (npm ci; native addons build from source, about 5 minutes)...',
  );
  execSync('npm ci --no-audit --no-fund', { stdio: 'inherit' });
}
