#!/usr/bin/env node
// The container's HEALTHCHECK: GET /healthz (or the path given) over TLS, trusting only the installation's CA; exit 0 when it answers 200.
// Plain Node, no curl: the slim image has none, and the check must verify the server's certificate
// against the installation's own CA rather than skip verification.
import { readFileSync } from 'node:fs';
import https from 'node:https';
import path from 'node:path';

const dataDir = process.env.OPENCLOAK_DATA_DIR ?? './data';
const port = Number(process.env.OPENCLOAK_HEALTH_PORT ?? 8443);
const host = process.env.OPENCLOAK_HEALTH_HOST ?? '127.0.0.1';
const route = process.argv[2] ?? '/healthz';
/** Below Docker's default HEALTHCHECK timeout (30 s) and the one the Dockerfile sets (5 s). */
const TIMEOUT_MS = 4000;

let ca;
try {
  ca = readFileSync(path.join(dataDir, 'pki', 'ca.crt'));
} catch {
  console.error(
    `healthcheck: no CA certificate under ${dataDir}/pki yet (first start still under way?)`,
  );
  process.exit(1);
}
const request = https.get({ host, port, path: route, ca, timeout: TIMEOUT_MS }, (response) => {
  response.resume();
  if (response.statusCode !== 200)
    console.error(`healthcheck: ${route} answered ${response.statusCode}`);
  process.exit(response.statusCode === 200 ? 0 : 1);
});
request.on('timeout', () => request.destroy(new Error(`no answer within ${TIMEOUT_MS} ms`)));
request.on('error', (error) => {
  console.error(`healthcheck: ${error.message}`);
  process.exit(1);
});
