/**
 * The `http.*.added_cpu` scenarios: server CPU per request that a metrics middleware adds over
 * the same app without metrics.
 *
 * Three servers run side by side (bare, ours, the peer plugin), each a separate process pinned
 * to core 0 with `taskset`; autocannon runs in this process, pinned to core 1, against
 * 127.0.0.1 only. A round sends a fixed number of requests (10 connections) to each server in
 * turn; the server's CPU for the round is utime + stime from `/proc/<pid>/stat`, divided by the
 * requests it answered. The figure is the median over rounds, minus the bare server's median.
 * Ours runs on the FileStore (PROMETHEUS_MULTIPROC_DIR set), the peers in memory. Afterwards
 * our server's /metrics must count exactly the requests it was sent.
 */
import { type ChildProcess, execFileSync, spawn } from 'node:child_process';
import { readFileSync, rmSync } from 'node:fs';
import autocannon, { type AutocannonResult } from 'autocannon';
import { median } from './measure.js';
import { workerScript } from './processes.js';
import { makeTempDir } from './stores.js';
import { type BenchResult, result, type ScenarioContext } from './types.js';

/** A framework with its adapter and peer. */
export type Framework = 'express' | 'koa' | 'fastify';
type Variant = 'bare' | 'ours' | 'peer';
const VARIANTS: readonly Variant[] = ['bare', 'ours', 'peer'];

const CONNECTIONS = 10;
const READY_TIMEOUT_MS = 30_000;
/** Hard stop for one load run, whatever autocannon does. */
const RUN_LIMIT_MS = 120_000;

function clockTicksPerSecond(): number {
  try {
    return Number(execFileSync('getconf', ['CLK_TCK'], { encoding: 'utf8' }).trim()) || 100;
  } catch {
    return 100;
  }
}

/** CPU seconds (user + system) a process has used, from /proc/<pid>/stat. */
export function processCpuSeconds(pid: number, ticksPerSecond: number): number {
  const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
  // Fields after the parenthesised command name start at field 3 (state).
  const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
  return (Number(fields[11]) + Number(fields[12])) / ticksPerSecond;
}

function hasTaskset(): boolean {
  try {
    execFileSync('taskset', ['-V'], { stdio: 'ignore' });
    return true;
  } catch {
    return false;
  }
}

interface RunningServer {
  readonly variant: Variant;
  readonly child: ChildProcess;
  readonly port: number;
}

function startServer(
  framework: Framework,
  variant: Variant,
  pinned: boolean,
  env: NodeJS.ProcessEnv,
): Promise<RunningServer> {
  const nodeArgs = [workerScript('http-server'), framework, variant];
  const child = pinned
    ? spawn('taskset', ['-c', '0', process.execPath, ...nodeArgs], {
        stdio: ['ignore', 'inherit', 'inherit', 'ipc'],
        env,
      })
    : spawn(process.execPath, nodeArgs, { stdio: ['ignore', 'inherit', 'inherit', 'ipc'], env });
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => {
      child.kill('SIGKILL');
      reject(new Error(`${framework}/${variant} server not ready in time`));
    }, READY_TIMEOUT_MS);
    child.once('exit', (code, signal) => {
      clearTimeout(timer);
      reject(new Error(`${framework}/${variant} server exited (${signal ?? `code ${code}`})`));
    });
    child.on('message', (message: unknown) => {
      const m = message as { ready?: boolean; port?: number } | null;
      if (m?.ready === true && typeof m.port === 'number') {
        clearTimeout(timer);
        child.removeAllListeners('exit');
        resolve({ variant, child, port: m.port });
      }
    });
  });
}

function load(port: number, amount: number): Promise<AutocannonResult> {
  return new Promise((resolve, reject) => {
    let timer: NodeJS.Timeout | undefined;
    const instance = autocannon(
      { url: `http://127.0.0.1:${port}/users/42`, connections: CONNECTIONS, amount, timeout: 10 },
      (error, res) => {
        clearTimeout(timer);
        if (error) reject(error);
        else resolve(res);
      },
    );
    timer = setTimeout(() => instance.stop(), RUN_LIMIT_MS);
  });
}

function affinityOf(pid: number): string | undefined {
  try {
    const out = execFileSync('taskset', ['-cp', String(pid)], { encoding: 'utf8' });
    return out.slice(out.lastIndexOf(':') + 1).trim();
  } catch {
    return undefined;
  }
}

function setAffinity(pid: number, cpus: string): void {
  execFileSync('taskset', ['-cp', cpus, String(pid)], { stdio: 'ignore' });
}

/** Sum of `http_requests_total` for our route, read from the ours server's /metrics. */
async function countedRequests(port: number): Promise<number> {
  const response = await fetch(`http://127.0.0.1:${port}/metrics`);
  const text = await response.text();
  let total = 0;
  for (const line of text.split('\n')) {
    if (line.startsWith('http_requests_total{') && line.includes('route="/users/:id"')) {
      total += Number(line.slice(line.lastIndexOf(' ') + 1));
    }
  }
  return total;
}

/** Runs the scenario for one framework. */
export async function runHttp(
  framework: Framework,
  peerName: string,
  context: ScenarioContext,
): Promise<BenchResult[]> {
  const id = `http.${framework}.added_cpu`;
  const requests = context.quick ? 3_000 : 20_000;
  const warmup = context.quick ? 1_500 : 10_000;
  const rounds = context.quick ? 5 : 9;
  const ticks = clockTicksPerSecond();
  const pinned = hasTaskset();
  const dir = makeTempDir(`http-${framework}`);
  const ownAffinity = pinned ? affinityOf(process.pid) : undefined;
  const servers: RunningServer[] = [];
  try {
    for (const variant of VARIANTS) {
      const env = { ...process.env };
      if (variant === 'ours') env.PROMETHEUS_MULTIPROC_DIR = dir;
      else delete env.PROMETHEUS_MULTIPROC_DIR;
      servers.push(await startServer(framework, variant, pinned, env));
    }
    if (pinned) setAffinity(process.pid, '1');
    const perRequest = new Map<Variant, number[]>(VARIANTS.map((v) => [v, []]));
    let sent = 0;
    for (const server of servers) await load(server.port, warmup);
    sent += warmup;
    for (let round = 0; round < rounds; round++) {
      // Rotate the order each round so no server always runs right after another.
      const order = servers.map((_, k) => servers[(k + round) % servers.length] as RunningServer);
      for (const server of order) {
        const pid = server.child.pid as number;
        const before = processCpuSeconds(pid, ticks);
        const res = await load(server.port, requests);
        const after = processCpuSeconds(pid, ticks);
        if (res.errors > 0 || res.timeouts > 0 || res.non2xx > 0 || res['2xx'] !== requests) {
          throw new Error(
            `${id}: ${server.variant} answered ${res['2xx']} of ${requests} with 2xx ` +
              `(${res.non2xx} non-2xx, ${res.errors} errors, ${res.timeouts} timeouts)`,
          );
        }
        perRequest.get(server.variant)?.push(((after - before) / res['2xx']) * 1e6);
      }
      sent += requests;
    }
    const ours = servers.find((s) => s.variant === 'ours') as RunningServer;
    const counted = await countedRequests(ours.port);
    if (counted !== sent) {
      throw new Error(`${id}: our /metrics counted ${counted} requests, ${sent} were sent`);
    }
    const cpu = (v: Variant) => median(perRequest.get(v) ?? []);
    context.limit(
      id,
      'The added CPU is the adapter per request (reading the route template, timing, the hook ' +
        'or listener that sees the response end, one counter inc and one histogram observe) plus ' +
        'the FileStore write ' +
        'at the end of each event-loop turn; under the shared machine load, per-request CPU ' +
        'figures of all three servers are inflated alike, so the ratio is the comparable figure.',
    );
    const bare = cpu('bare');
    context.note(
      id,
      `server CPU per request, median of ${rounds} rounds of ${requests} requests: bare ${bare.toFixed(1)} µs, ` +
        `ours ${cpu('ours').toFixed(1)} µs (FileStore), ${peerName} ${cpu('peer').toFixed(1)} µs ` +
        `(added by ours: ${(cpu('ours') - bare).toFixed(1)} µs; issue 4 aims at ≤ 5 µs); ` +
        `${pinned ? 'servers pinned to core 0, load to core 1' : 'taskset missing: not pinned'}; ` +
        `our /metrics counted exactly the ${sent} requests sent.`,
    );
    return [result(id, 'µs/req', cpu('ours') - bare, cpu('peer') - bare, peerName)];
  } finally {
    if (ownAffinity !== undefined) setAffinity(process.pid, ownAffinity);
    for (const server of servers) server.child.kill('SIGKILL');
    rmSync(dir, { recursive: true, force: true });
  }
}
