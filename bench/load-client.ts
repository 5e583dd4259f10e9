// A load generator in its own process: keep-alive HTTPS GETs with a client certificate, latency percentiles.
import { readFileSync } from 'node:fs';
import { Agent, request } from 'undici';

interface Options {
  url: string;
  pfx: string;
  passphrase: string;
  ca: string;
  connections: number;
  seconds: number;
}

const options = JSON.parse(process.argv[2]!) as Options;
const agent = new Agent({
  connections: options.connections,
  pipelining: 1,
  connect: {
    pfx: readFileSync(options.pfx),
    passphrase: options.passphrase,
    ca: readFileSync(options.ca, 'utf8'),
  },
});

const latencies: number[] = [];
let errors = 0;

async function worker(until: number): Promise<void> {
  while (performance.now() < until) {
    const started = performance.now();
    const response = await request(options.url, { dispatcher: agent });
    await response.body.arrayBuffer();
    if (response.statusCode !== 200) errors++;
    latencies.push(performance.now() - started);
  }
}

// A short warm-up lets TLS handshakes and JIT settle before measuring.
await Promise.all(
  Array.from({ length: options.connections }, () => worker(performance.now() + 1000)),
);
latencies.length = 0;
errors = 0;
const started = performance.now();
await Promise.all(
  Array.from({ length: options.connections }, () => worker(started + options.seconds * 1000)),
);
const elapsed = (performance.now() - started) / 1000;
latencies.sort((a, b) => a - b);
const at = (q: number) =>
  latencies[Math.min(latencies.length - 1, Math.floor(q * latencies.length))] ?? NaN;
process.stdout.write(
  `${JSON.stringify({ rps: latencies.length / elapsed, p50: at(0.5), p99: at(0.99), errors, requests: latencies.length })}\n`,
);
await agent.close();
