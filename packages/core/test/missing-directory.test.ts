/**
 * Misconfiguration is loud, and `prepareDirectory()` alone sets up node:cluster: real cluster
 * primaries and workers (fixtures/no-directory-cluster.ts), started without
 * PROMETHEUS_MULTIPROC_DIR.
 */
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { existsSync, mkdtempSync, readdirSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, describe, it } from 'node:test';
import { fixture } from './compaction-helpers.js';

interface Run {
  readonly code: number | null;
  readonly signal: NodeJS.Signals | null;
  readonly stdout: string;
  readonly stderr: string;
}

/** Environment without the variable (the test runner may have it) and without PM2's. */
function cleanEnv(extra: NodeJS.ProcessEnv = {}): NodeJS.ProcessEnv {
  const env = { ...process.env, ...extra };
  delete env.PROMETHEUS_MULTIPROC_DIR;
  for (const key of ['pm_id', 'NODE_APP_INSTANCE', 'exec_mode', 'instances']) {
    if (!(key in extra)) delete env[key];
  }
  return env;
}

/**
 * Runs the fixture to completion; `onLine` sees each stdout line as it comes (to signal the
 * primary at the right moment).
 */
function run(
  args: readonly string[],
  env: NodeJS.ProcessEnv,
  onLine?: (line: string, pid: number) => void,
): Promise<Run> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, [fixture('no-directory-cluster'), ...args], {
      stdio: ['ignore', 'pipe', 'pipe'],
      env,
    });
    let stdout = '';
    let stderr = '';
    let partial = '';
    child.stdout.setEncoding('utf8').on('data', (chunk: string) => {
      stdout += chunk;
      const lines = (partial + chunk).split('\n');
      partial = lines.pop() ?? '';
      for (const line of lines) onLine?.(line, child.pid!);
    });
    child.stderr.setEncoding('utf8').on('data', (chunk: string) => {
      stderr += chunk;
    });
    child.once('error', reject);
    child.once('close', (code, signal) => resolve({ code, signal, stdout, stderr }));
  });
}

const WARNING =
  /^promfork: warning: process (\d+) is (.*), but PROMETHEUS_MULTIPROC_DIR is not set/;

function warnings(stderr: string): RegExpMatchArray[] {
  return stderr
    .split('\n')
    .map((line) => line.match(WARNING))
    .filter((m): m is RegExpMatchArray => m !== null);
}

describe('a process that is one of several, without PROMETHEUS_MULTIPROC_DIR', () => {
  it('warns once per cluster worker, naming the variable and the fix', async () => {
    const result = await run(['default'], cleanEnv());
    assert.equal(result.code, 0, result.stderr);
    const found = warnings(result.stderr);
    // Two workers, each creating two metrics: one warning each, from two different pids.
    assert.equal(found.length, 2, result.stderr);
    assert.equal(new Set(found.map((m) => m[1])).size, 2);
    for (const m of found) assert.equal(m[2], 'a node:cluster worker');
    const line = result.stderr.split('\n').find((l) => WARNING.test(l)) ?? '';
    assert.match(line, /call prepareDirectory\(\) in the primary before cluster\.fork\(\)/);
    assert.match(line, /setDefaultStore\(new MemoryStore\(\)\)/);
  });

  it('stays silent when the MemoryStore is chosen explicitly', async () => {
    const result = await run(['memory'], cleanEnv());
    assert.equal(result.code, 0, result.stderr);
    assert.equal(result.stderr, '');
  });

  it('stays silent when every metric names its store, a scrape included', async () => {
    const result = await run(['per-metric'], cleanEnv());
    assert.equal(result.code, 0, result.stderr);
    assert.equal(result.stderr, '');
  });

  it('warns in a PM2 instance (pm_id, NODE_APP_INSTANCE), not in a lone process', async () => {
    const pm2 = await run(['single'], cleanEnv({ pm_id: '3', NODE_APP_INSTANCE: '3' }));
    assert.equal(pm2.code, 0, pm2.stderr);
    assert.deepEqual(
      warnings(pm2.stderr).map((m) => m[2]),
      ['a PM2 instance (pm_id=3)'],
    );
    const lone = await run(['single'], cleanEnv());
    assert.equal(lone.stderr, '');
    const pm2Fork = await run(
      ['single'],
      cleanEnv({ pm_id: '0', NODE_APP_INSTANCE: '0', exec_mode: 'fork_mode', instances: '1' }),
    );
    assert.equal(pm2Fork.stderr, '');
  });
});

describe('prepareDirectory() with no directory configured', () => {
  // mkdtemp honours TMPDIR: the private directory is created in a scratch folder, so the test
  // can tell it was removed by looking at that folder.
  const scratch = mkdtempSync(join(tmpdir(), 'promfork-private-'));
  after(() => rmSync(scratch, { recursive: true, force: true }));

  it('shares a private directory with the workers: exact merged counts, removed at exit', async () => {
    const result = await run(['prepare'], cleanEnv({ TMPDIR: scratch }));
    assert.equal(result.code, 0, result.stderr);
    assert.equal(warnings(result.stderr).length, 0, result.stderr);
    const dir = result.stdout.match(/^dir=(.*)$/m)?.[1];
    assert.ok(dir?.startsWith(scratch), result.stdout);
    const scrape = JSON.parse(result.stdout.match(/^scrape=(.*)$/m)?.[1] ?? '""') as string;
    // Worker 0 added 1, worker 1 added 2; each observed one histogram value.
    assert.match(scrape, /^work_total 3$/m);
    assert.match(scrape, /^work_seconds_count 2$/m);
    assert.equal(existsSync(dir!), false, 'the private directory outlived the primary');
    assert.deepEqual(readdirSync(scratch), []);
  });

  it('is removed when the primary dies of SIGTERM while workers run', async () => {
    let dir: string | undefined;
    const result = await run(['prepare', 'hold'], cleanEnv({ TMPDIR: scratch }), (line, pid) => {
      dir ??= line.match(/^dir=(.*)$/)?.[1];
      if (line.startsWith('scrape=')) {
        assert.ok(dir !== undefined && existsSync(dir));
        process.kill(pid, 'SIGTERM');
      }
    });
    assert.equal(result.signal, 'SIGTERM', result.stderr);
    assert.match(result.stdout, /^scrape=.*work_total 3/m);
    assert.equal(existsSync(dir!), false, 'the private directory outlived the primary');
  });
});
