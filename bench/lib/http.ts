/**
 * The `http.*.added_cpu` scenarios: server CPU per request that a metrics middleware adds over
 * the same app without metrics.
 *
 * Four servers run side by side (bare; ours on the FileStore; ours on the MemoryStore; the
 * peer plugin), each a separate process pinned to core 0 with `taskset`; autocannon runs in
 * this process, pinned to core 1, against 127.0.0.1 only. A round sends a fixed number of
 * requests (10 connections per server) to all servers at once, so each is measured over the
 * same seconds of the shared machine's load. A server's CPU for the round is read inside the
 * server with `process.cpuUsage()` (user + system of all its threads, in microseconds; asked
 * for over IPC just before and just after its load), divided by the requests it answered.
 * `/proc/<pid>/stat` would give only clock ticks (10 ms), a few µs per request at these
 * counts, which is the size of the figure being measured.
 *
 * A round's added CPU is ours (or the peer's) minus the bare server's in the same round, so
 * load from elsewhere falls on both sides of the difference; the figure is the median over
 * rounds of these paired differences. The peers keep their metrics in memory. Rounds are
 * bounded in number and time (see {@link httpPlan}). Afterwards both of our servers' /metrics
 * must count exactly the requests they were sent.
 */
import { type ChildProcess, execFileSync, spawn } from 'node:child_process';
import { rmSync } from 'node:fs';
import autocannon, { type AutocannonResult } from 'autocannon';
import { median } from './measure.js';
import { workerScript } from './processes.js';
import { makeTempDir } from './stores.js';
import { type BenchResult, result, type ScenarioContext } from './types.js';

/** A framework with its adapter and peer. */
export type Framework = 'express' | 'koa' | 'fastify';
/**
 * The servers of a run: `ours` on the FileStore (the scenario's figure) and `oursMemory`, the
 * same adapter on the MemoryStore, which splits our added CPU into the adapter's part and the
 * store's (the FileStore writes its changed blocks once per event-loop turn).
 */
type Variant = 'bare' | 'ours' | 'oursMemory' | 'peer';
const VARIANTS: readonly Variant[] = ['bare', 'ours', 'oursMemory', 'peer'];

const CONNECTIONS = 10;
const READY_TIMEOUT_MS = 30_000;
/** Longest wait for a server's answer to a CPU reading. */
const CPU_TIMEOUT_MS = 10_000;
/** Hard stop for one load run, whatever autocannon does. */
const RUN_LIMIT_MS = 120_000;

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
  const nodeArgs = [
    workerScript('http-server'),
    framework,
    variant === 'oursMemory' ? 'ours' : variant,
  ];
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

let cpuQuery = 0;

/**
 * The CPU time (µs, user + system, all threads) `server` has used so far, read by the server
 * itself with `process.cpuUsage()` and sent back over IPC.
 */
function serverCpuMicros(server: RunningServer): Promise<number> {
  const query = ++cpuQuery;
  const { child } = server;
  return new Promise((resolve, reject) => {
    const done = () => {
      clearTimeout(timer);
      child.off('message', onMessage);
      child.off('exit', onExit);
    };
    const onMessage = (message: unknown) => {
      const m = message as { cpu?: unknown; micros?: unknown } | null;
      if (m?.cpu !== query || typeof m.micros !== 'number') return;
      done();
      resolve(m.micros);
    };
    const onExit = () => {
      done();
      reject(new Error(`${server.variant} server exited while its CPU time was asked for`));
    };
    const timer = setTimeout(() => {
      done();
      reject(new Error(`${server.variant} server did not report its CPU time in time`));
    }, CPU_TIMEOUT_MS);
    child.on('message', onMessage);
    child.once('exit', onExit);
    child.send({ cpu: query });
  });
}

/** The `p`-quantile (0..1) of a non-empty list, by linear interpolation. */
function quantile(values: readonly number[], p: number): number {
  const sorted = [...values].sort((a, b) => a - b);
  const at = (sorted.length - 1) * p;
  const low = Math.floor(at);
  const lowValue = sorted[low] as number;
  return lowValue + ((sorted[Math.ceil(at)] as number) - lowValue) * (at - low);
}

/** Starts the three servers at once; on a failure, stops those that did start and throws. */
async function startServers(
  framework: Framework,
  pinned: boolean,
  dir: string,
): Promise<RunningServer[]> {
  const started = await Promise.allSettled(
    VARIANTS.map((variant) => {
      const env = { ...process.env };
      if (variant === 'ours') env.PROMETHEUS_MULTIPROC_DIR = dir;
      else delete env.PROMETHEUS_MULTIPROC_DIR;
      return startServer(framework, variant, pinned, env);
    }),
  );
  const servers: RunningServer[] = [];
  for (const s of started) if (s.status === 'fulfilled') servers.push(s.value);
  const failed = started.find((s) => s.status === 'rejected');
  if (failed !== undefined) {
    for (const server of servers) server.child.kill('SIGKILL');
    throw (failed as PromiseRejectedResult).reason;
  }
  return servers;
}

/** Requests per round, the bounds on the number of rounds, and warm-up requests per server. */
export interface HttpPlan {
  /** Requests each server answers per round. */
  readonly requests: number;
  /** Rounds always run. */
  readonly minRounds: number;
  /** Rounds never exceeded. */
  readonly maxRounds: number;
  /** After `minRounds`, no new round starts once this much time has passed since the first. */
  readonly budgetMs: number;
  /** Requests per server before the first round (JIT warm-up, caches filled). */
  readonly warmup: number;
}

/**
 * The load plan. Rounds are bounded by count and time: a quiet machine takes more rounds in
 * the same time (a steadier median), a loaded one stops at `minRounds`. Quick mode keeps the
 * three HTTP scenarios within about a minute.
 */
export function httpPlan(quick: boolean): HttpPlan {
  return quick
    ? { requests: 1_000, minRounds: 5, maxRounds: 25, budgetMs: 4_000, warmup: 1_000 }
    : { requests: 5_000, minRounds: 11, maxRounds: 51, budgetMs: 90_000, warmup: 10_000 };
}

/** Runs the scenario for one framework. */
export async function runHttp(
  framework: Framework,
  peerName: string,
  context: ScenarioContext,
): Promise<BenchResult[]> {
  const id = `http.${framework}.added_cpu`;
  const { requests, minRounds, maxRounds, budgetMs, warmup } = httpPlan(context.quick);
  const pinned = hasTaskset();
  const dir = makeTempDir(`http-${framework}`);
  const ownAffinity = pinned ? affinityOf(process.pid) : undefined;
  let servers: RunningServer[] = [];
  try {
    servers = await startServers(framework, pinned, dir);
    if (pinned) setAffinity(process.pid, '1');
    const perRequest = new Map<Variant, number[]>(VARIANTS.map((v) => [v, []]));
    let sent = 0;
    for (const server of servers) await load(server.port, warmup);
    sent += warmup;
    const began = Date.now();
    let rounds = 0;
    while (rounds < minRounds || (rounds < maxRounds && Date.now() - began < budgetMs)) {
      rounds++;
      // All three servers take their round's load at the same time, so each is measured over
      // the same seconds of the shared machine's load.
      await Promise.all(
        servers.map(async (server) => {
          const before = await serverCpuMicros(server);
          const res = await load(server.port, requests);
          const after = await serverCpuMicros(server);
          if (res.errors > 0 || res.timeouts > 0 || res.non2xx > 0 || res['2xx'] !== requests) {
            throw new Error(
              `${id}: ${server.variant} answered ${res['2xx']} of ${requests} with 2xx ` +
                `(${res.non2xx} non-2xx, ${res.errors} errors, ${res.timeouts} timeouts)`,
            );
          }
          perRequest.get(server.variant)?.push((after - before) / res['2xx']);
        }),
      );
      sent += requests;
    }
    for (const server of servers) {
      if (server.variant !== 'ours' && server.variant !== 'oursMemory') continue;
      const counted = await countedRequests(server.port);
      if (counted !== sent) {
        throw new Error(
          `${id}: our /metrics (${server.variant}) counted ${counted} requests, ${sent} were sent`,
        );
      }
    }
    const samples = (v: Variant) => perRequest.get(v) ?? [];
    const bareSamples = samples('bare');
    // Paired per round: the bare server's figure of the same round is subtracted.
    const added = (v: Variant) => samples(v).map((x, r) => x - (bareSamples[r] as number));
    const oursAdded = added('ours');
    const memoryAdded = added('oursMemory');
    const peerAdded = added('peer');
    const spread = (values: readonly number[]) =>
      `${quantile(values, 0.25).toFixed(2)}–${quantile(values, 0.75).toFixed(2)}`;
    context.limit(
      id,
      'The added CPU is the adapter per request (reading the route template, timing, the ' +
        'listener that sees the response end, one counter inc and one histogram observe) plus ' +
        'the FileStore write of the changed blocks at the end of each event-loop turn; ' +
        `\`${id}.memory\` (the same adapter on the MemoryStore, in the same rounds) shows the ` +
        'adapter alone, so the difference between the two is the store. Under the shared ' +
        'machine load, per-request CPU figures of all servers are inflated alike, so the ratio ' +
        'is the comparable figure.',
    );
    const oursMedian = median(oursAdded);
    const memoryMedian = median(memoryAdded);
    const peerMedian = median(peerAdded);
    context.note(
      id,
      `${rounds} rounds of ${requests} requests per server, the servers loaded at once ` +
        `(clock resolution 1 µs per round, ${(1 / requests).toFixed(4)} µs per request); server ` +
        `CPU per request, median: bare ${median(bareSamples).toFixed(1)} µs, ours ` +
        `${median(samples('ours')).toFixed(1)} µs (FileStore), ${peerName} ` +
        `${median(samples('peer')).toFixed(1)} µs; added over bare (median of per-round ` +
        `differences, interquartile range): ours ${oursMedian.toFixed(2)} µs ` +
        `(${spread(oursAdded)}; issue 4 aims at ≤ 5 µs), ours on the MemoryStore ` +
        `${memoryMedian.toFixed(2)} µs (${spread(memoryAdded)}), peer ${peerMedian.toFixed(2)} µs ` +
        `(${spread(peerAdded)}); ` +
        `${pinned ? 'servers pinned to core 0, load to core 1' : 'taskset missing: not pinned'}; ` +
        `both of our servers' /metrics counted exactly the ${sent} requests sent.`,
    );
    context.log(
      `added µs/req: ours ${oursMedian.toFixed(2)} (IQR ${spread(oursAdded)}), ` +
        `ours on MemoryStore ${memoryMedian.toFixed(2)} (IQR ${spread(memoryAdded)}), ` +
        `peer ${peerMedian.toFixed(2)} (IQR ${spread(peerAdded)}), bare ${median(bareSamples).toFixed(1)}`,
    );
    return [
      result(id, 'µs/req', oursMedian, peerMedian, peerName),
      result(`${id}.memory`, 'µs/req', memoryMedian, peerMedian, peerName),
    ];
  } finally {
    if (ownAffinity !== undefined) setAffinity(process.pid, ownAffinity);
    for (const server of servers) server.child.kill('SIGKILL');
    rmSync(dir, { recursive: true, force: true });
  }
}
