/**
 * End-to-end: how an example cluster fails to start. A bad setting exits 2 naming the value;
 * a port already in use stops the whole cluster with status 1 instead of restarting workers
 * that can never listen (no crash loop), and leaves no process behind.
 */
import assert from 'node:assert/strict';
import { existsSync, mkdtempSync, rmSync } from 'node:fs';
import { createServer, type Server } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, it } from 'node:test';
import { withDeadline } from './helpers/deadline.js';
import { CLUSTER_SCRIPTS, RunningProgram } from './helpers/processes.js';

const programs: RunningProgram[] = [];
const dirs: string[] = [];
let blocker: Server | undefined;
after(async () => {
  for (const program of programs) await program.stop('SIGKILL');
  for (const dir of dirs) rmSync(dir, { recursive: true, force: true });
  blocker?.close();
});

function start(env: NodeJS.ProcessEnv, args: readonly string[] = []): RunningProgram {
  const program = new RunningProgram(
    'express example',
    process.execPath,
    [CLUSTER_SCRIPTS.express, ...args],
    { ...process.env, ...env },
  );
  programs.push(program);
  return program;
}

it('exits 2 and names the value for a bad PORT, WORKERS or flag', async () => {
  for (const [env, args, message] of [
    [{ PORT: 'eighty' }, [], /PORT must be an integer from 0 to 65535, got "eighty"/],
    [{ PORT: '0', WORKERS: '0' }, [], /WORKERS must be an integer from 1 to 64, got 0/],
    [{ PORT: '0' }, ['--wrokers', '2'], /--wrokers/],
  ] as const) {
    const program = start(env, args);
    const exit = await withDeadline('the example to exit', program.exited, 15_000);
    assert.deepEqual(exit, { code: 2, signal: null }, program.describeOutput());
    assert.match(program.stderr.join('\n'), message);
  }
});

it('stops with status 1, without restarting workers, when the port is taken', async () => {
  blocker = createServer();
  await new Promise<void>((resolve) => blocker?.listen(0, '127.0.0.1', resolve));
  const address = blocker.address();
  assert.ok(address !== null && typeof address === 'object');
  const dir = mkdtempSync(join(tmpdir(), 'promfork-e2e-startup-'));
  dirs.push(dir);

  const program = start({
    PORT: String(address.port),
    WORKERS: '2',
    PROMETHEUS_MULTIPROC_DIR: dir,
  });
  const exit = await withDeadline('the example to give up', program.exited, 30_000);
  assert.deepEqual(exit, { code: 1, signal: null }, program.describeOutput());
  assert.match(
    program.stderr.join('\n'),
    /fatal: express worker pid=\d+ stopped before it listened/,
  );
  assert.ok(
    !program.stdout.some((line) => line.includes('starting a replacement')),
    'no worker was restarted',
  );
  assert.ok(existsSync(dir), 'a directory the user named is kept');
});
