// The seed's Ruby client and curl with a .pfx, unchanged but for host, port and task id, get the documented JSON.
import { execFile } from 'node:child_process';
import { promisify } from 'node:util';
import { mkdtempSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  KEY_PASSWORD,
  startTestInstallation,
  type TestInstallation,
} from '../support/installation.ts';

/** The client printed in shared/seed/rest-api-reference.md; only the URL differs. */
function seedRubyClient(url: string): string {
  return `require 'net/http'
require 'uri'
require 'openssl'
require 'json'

def http_get(path, api_key)
  uri = URI.parse(path)
  http = Net::HTTP.new(uri.host, uri.port)
  http.read_timeout = 300
  http.use_ssl = true
  http.key = api_key.key
  http.cert = api_key.certificate
  http.verify_mode = OpenSSL::SSL::VERIFY_NONE
  http.get(uri.request_uri)
end

key_file_name = "my_api_key.pfx"
key_password = "${KEY_PASSWORD}"
api_key = OpenSSL::PKCS12.new(File.read(key_file_name), key_password)
response = http_get("${url}", api_key)
puts response.body
`;
}

// Async: the server under test runs in this process, so a blocking exec would deadlock it.
const run = promisify(execFile);

describe('seed clients', () => {
  let inst: TestInstallation;
  let dir: string;
  let taskId: number;

  beforeAll(async () => {
    inst = await startTestInstallation();
    const orgId = await inst.createOrg('Seed');
    dir = mkdtempSync(path.join(os.tmpdir(), 'opencloak-seed-'));
    writeFileSync(path.join(dir, 'my_api_key.pfx'), (await inst.issueKey(orgId, 'web_api')).pfx!);
    writeFileSync(path.join(dir, 'ca.crt'), inst.ca);
    const task = await inst.platform.air.tasks.create(orgId, {
      name: 'heights',
      type: 'batch',
      code: '',
      prefetch: [],
    });
    taskId = task.id;
    await inst.platform.air.results.publish(
      task.id,
      1,
      {
        buckets: [
          { label: 'height', value: '140', count: 20 },
          { label: 'height', value: '160', count: 35 },
        ],
        exceptions: [],
      },
      1_421_660_484_000,
    );
  });
  afterAll(() => inst.stop());

  const expected = () => ({
    success: true,
    count: 1,
    page: 1,
    per_page: 10,
    items: [
      {
        published_at: 1_421_660_484_000,
        buckets: [
          { name: 'height: 140', value: 20 },
          { name: 'height: 160', value: 35 },
        ],
        exceptions: [],
      },
    ],
  });

  it("the seed's Ruby client (OpenSSL::PKCS12 + Net::HTTP) gets the documented JSON", async () => {
    const url = `${inst.platform.webUrl.replace('127.0.0.1', 'localhost')}/api/task_results/${taskId}`;
    writeFileSync(path.join(dir, 'client.rb'), seedRubyClient(url));
    const { stdout: output } = await run('ruby', ['client.rb'], { cwd: dir, encoding: 'utf8' });
    expect(JSON.parse(output)).toEqual(expected());
  });

  it('curl --cert-type P12 gets the documented JSON, verifying the server against the CA', async () => {
    const { stdout: output } = await run(
      'curl',
      [
        '--silent',
        '--show-error',
        '--fail-with-body',
        '--cert-type',
        'P12',
        '--cert',
        `my_api_key.pfx:${KEY_PASSWORD}`,
        '--cacert',
        'ca.crt',
        `${inst.platform.webUrl}/api/task_results/${taskId}?page=1&per_page=10`,
      ],
      { cwd: dir, encoding: 'utf8' },
    );
    expect(JSON.parse(output)).toEqual(expected());
  });
});
