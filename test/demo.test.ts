/**
 * End-to-end: `npm start`'s program (examples/dist/demo.js) starts with no environment
 * variable at all, serves merged metrics, and on Ctrl-C (SIGINT) stops every worker, removes
 * its temporary directory and exits 0.
 */
import assert from 'node:assert/strict';
import { existsSync } from 'node:fs';
import { after, it } from 'node:test';
import { fileURLToPath } from 'node:url';
import { parseExposition } from './helpers/exposition.js';
import { request } from './helpers/http.js';
import { processAlive, RunningProgram } from './helpers/processes.js';

const DEMO = fileURLToPath(new URL('../../examples/dist/demo.js', import.meta.url));

let demo: RunningProgram | undefined;
after(async () => {
  await demo?.stop('SIGKILL');
});

it('npm start: demo runs with an embedded directory and cleans up on Ctrl-C', async () => {
  const env: NodeJS.ProcessEnv = { ...process.env, PORT: '0', WORKERS: '2' };
  delete env.PROMETHEUS_MULTIPROC_DIR;
  demo = new RunningProgram('demo', process.execPath, [DEMO], env);

  const ready = await demo.waitForLine(/ ready url=(\S+) workers=2 dir=(\S+)/, 30_000);
  const [, url, dir] = ready as unknown as [string, string, string];
  await demo.waitForLine(/^Ctrl-C to stop\.$/, 30_000);
  assert.ok(existsSync(dir), `the demo's directory ${dir} exists while it runs`);
  assert.ok(
    demo.stdout.some((line) => line.includes(`${url}/metrics`)),
    'the demo prints the URL of /metrics',
  );
  assert.ok(
    demo.stdout.some((line) => /^ {2}http_requests_total\{/.test(line)),
    'the demo prints a sample of the merged output',
  );

  // The traffic the demo sent itself is visible to whichever worker answers.
  const res = await request(`${url}/metrics`);
  assert.equal(res.status, 200);
  const total = parseExposition(res.body)
    .filter((s) => s.name === 'http_requests_total' && s.labels.route !== '/metrics')
    .reduce((sum, s) => sum + s.value, 0);
  const sent = demo.stdout.map((line) => line.match(/^sent (\d+) requests/)).find((m) => m);
  assert.ok(sent, demo.describeOutput());
  assert.equal(total, Number(sent[1]));

  const workerPids = demo.stdout
    .map((line) => line.match(/ pid=(\d+) listening on /))
    .filter((m): m is RegExpMatchArray => m !== null)
    .map((m) => Number(m[1]));
  assert.equal(workerPids.length, 2);

  const exit = await demo.stop('SIGINT', 10_000);
  assert.deepEqual(exit, { code: 0, signal: null }, demo.describeOutput());
  assert.ok(!existsSync(dir), `the demo removed its temporary directory ${dir}`);
  for (const pid of workerPids) assert.ok(!processAlive(pid), `worker ${pid} outlived the demo`);
});
