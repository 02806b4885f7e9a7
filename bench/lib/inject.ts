/**
 * The `http.<fw>.inject.*` scenarios: the CPU a metrics middleware adds to a request, measured
 * in-process, without sockets (light-my-request for Express and Koa, `fastify.inject` for
 * Fastify), so a difference of a microsecond is visible; the socket scenarios (lib/http.ts)
 * stay as the second view, with the kernel and a load generator in the picture.
 *
 * One worker process (workers/inject-apps.ts) per framework holds six copies of the same
 * three-route app: bare, the framework's floor (one shared `close` listener per response, the
 * least any middleware that records a finished request does), ours on the MemoryStore, ours on
 * the FileStore, ours on a FileStore with the opt-in `flushIntervalMs: 100`, and the peer
 * plugin. Each round runs a fixed number of requests through every
 * copy in turn, the order rotating from round to round; a copy's figure for the round is its
 * CPU time (`process.cpuUsage()`, user + system) per request. A variant's added CPU for the
 * round is its figure minus the bare copy's of the same round (so load from elsewhere falls on
 * both sides of the difference); the result is the median over rounds, with a distribution-free
 * 95% interval of that median.
 *
 * With PROMFORK_BENCH_BASELINE set to a node_modules directory holding an earlier build of
 * @promfork/*, a second worker runs that build's `memory` and `file` copies in the same rounds
 * (against the first worker's bare copy): a change is measured against the code before it.
 */
import type { ChildProcess } from 'node:child_process';
import { rmSync } from 'node:fs';
import { median, medianInterval } from './measure.js';
import { forkReady, workerScript } from './processes.js';
import { makeTempDir } from './stores.js';
import { type BenchResult, result, type ScenarioContext } from './types.js';

/** A framework with its adapter and peer. */
export type InjectFramework = 'express' | 'koa' | 'fastify';

const VARIANTS = ['bare', 'floor', 'memory', 'file', 'interval', 'peer'] as const;
const BASELINE_VARIANTS = ['bare', 'floor', 'memory', 'file'] as const;

const READY_TIMEOUT_MS = 60_000;
const RUN_TIMEOUT_MS = 300_000;

/** Rounds, cycles per round, requests per copy per cycle, and warm-up cycles. */
export interface InjectPlan {
  readonly rounds: number;
  readonly cycles: number;
  readonly block: number;
  readonly warmupCycles: number;
}

/**
 * The plan: at least 10 rounds in both modes (the interval of the median needs them). Blocks
 * are short (a couple of milliseconds) so that the copies of a cycle run under the same load.
 */
export function injectPlan(quick: boolean): InjectPlan {
  return quick
    ? { rounds: 11, cycles: 40, block: 20, warmupCycles: 50 }
    : { rounds: 21, cycles: 80, block: 20, warmupCycles: 200 };
}

let nextQuery = 0;

/** Sends `message` plus a fresh query number and resolves with the worker's answer to it. */
function ask(
  child: ChildProcess,
  key: 'run' | 'check',
  message: Record<string, unknown>,
): Promise<{ perCycle?: number[][]; error?: string }> {
  const query = ++nextQuery;
  return new Promise((resolve, reject) => {
    const done = () => {
      clearTimeout(timer);
      child.off('message', onMessage);
      child.off('exit', onExit);
    };
    const onMessage = (raw: unknown) => {
      const m = raw as Record<string, unknown> | null;
      if (m?.[key] !== query) return;
      done();
      resolve(m as { perCycle?: number[][]; error?: string });
    };
    const onExit = () => {
      done();
      reject(new Error('inject worker exited'));
    };
    const timer = setTimeout(() => {
      done();
      reject(new Error('inject worker did not answer in time'));
    }, RUN_TIMEOUT_MS);
    child.on('message', onMessage);
    child.once('exit', onExit);
    child.send({ ...message, [key]: query });
  });
}

/** One round in `child`: per variant (in the worker's order), µs per request of each cycle. */
async function runRound(child: ChildProcess, cycles: number, block: number): Promise<number[][]> {
  const answer = await ask(child, 'run', { cycles, block });
  if (answer.error !== undefined || answer.perCycle === undefined) {
    throw new Error(`inject round: ${answer.error ?? 'no figures in the answer'}`);
  }
  return answer.perCycle;
}

function fork(
  framework: InjectFramework,
  variants: readonly string[],
  scratch: string,
  modules?: string,
) {
  const env: NodeJS.ProcessEnv = { ...process.env, PROMFORK_BENCH_SCRATCH: scratch };
  delete env.PROMETHEUS_MULTIPROC_DIR;
  if (modules === undefined) delete env.PROMFORK_BENCH_MODULES;
  else env.PROMFORK_BENCH_MODULES = modules;
  return forkReady(
    workerScript('inject-apps'),
    [framework, variants.join(',')],
    READY_TIMEOUT_MS,
    env,
  );
}

/** `median µs (95% CI low to high)`. */
function withInterval(values: readonly number[]): string {
  const [low, high] = medianInterval(values);
  return `${median(values).toFixed(2)} µs (95% CI ${low.toFixed(2)} to ${high.toFixed(2)})`;
}

/**
 * Per round figures of a worker: for each pair (variant, reference), the median over the
 * round's cycles of the variant's figure minus the reference's in the same cycle.
 */
class Differences {
  private readonly byPair = new Map<string, number[]>();

  constructor(private readonly variants: readonly string[]) {}

  addRound(perCycle: readonly (readonly number[])[]): void {
    for (const [v, variant] of this.variants.entries()) {
      for (const [r, reference] of this.variants.entries()) {
        if (v === r) continue;
        const mine = perCycle[v] ?? [];
        const theirs = perCycle[r] ?? [];
        const key = `${variant}-${reference}`;
        const list = this.byPair.get(key) ?? [];
        list.push(median(mine.map((x, c) => x - (theirs[c] as number))));
        this.byPair.set(key, list);
      }
      const key = `${variant}`;
      const list = this.byPair.get(key) ?? [];
      list.push(median(perCycle[v] ?? []));
      this.byPair.set(key, list);
    }
  }

  /** Per round: `variant` minus `reference` (or the variant's own figure). */
  of(variant: string, reference?: string): number[] {
    return this.byPair.get(reference === undefined ? variant : `${variant}-${reference}`) ?? [];
  }
}

/** How the scenario of one framework is measured, for docs/benchmarks.md. */
export function injectMethod(tool: string, peer: string): string {
  return (
    `in-process requests (${tool}) into six copies of one three-route app (one route in a ` +
    'nested router) in one worker process: bare, the floor (one shared close listener per ' +
    'response), ours on the MemoryStore, ours on the FileStore, ours on a FileStore with ' +
    `flushIntervalMs: 100 (opt-in), ${peer}. A round is a number ` +
    'of cycles; in each cycle every copy answers 20 requests in turn (the order rotating), one ' +
    'request per event-loop turn, its CPU time taken with process.cpuUsage(). Per round, a ' +
    "copy's added CPU is the median over the cycles of its difference with the bare copy (or " +
    'the floor, for over_floor) in the same cycle; the figure is the median over rounds, with a ' +
    'distribution-free 95% interval of that median in the notes. over_floor is ours minus the ' +
    'floor.'
  );
}

/** Runs the in-process scenario of one framework. */
export async function runInject(
  framework: InjectFramework,
  peerName: string,
  context: ScenarioContext,
): Promise<BenchResult[]> {
  const id = `http.${framework}.inject`;
  const { rounds, cycles, block, warmupCycles } = injectPlan(context.quick);
  const baselineModules = process.env.PROMFORK_BENCH_BASELINE;
  const children: ChildProcess[] = [];
  // The workers' FileStore directories go under one scratch directory removed here: workers are
  // SIGKILLed at the end, so their own exit cleanup never runs.
  const scratch = makeTempDir(`inject-${framework}`);
  try {
    const current = await fork(framework, VARIANTS, scratch);
    children.push(current);
    const baseline =
      baselineModules === undefined || baselineModules === ''
        ? undefined
        : await fork(framework, BASELINE_VARIANTS, scratch, baselineModules);
    if (baseline !== undefined) children.push(baseline);
    await runRound(current, warmupCycles, block);
    if (baseline !== undefined) await runRound(baseline, warmupCycles, block);
    const now = new Differences(VARIANTS);
    const before = new Differences(BASELINE_VARIANTS);
    for (let round = 0; round < rounds; round++) {
      now.addRound(await runRound(current, cycles, block));
      if (baseline !== undefined) before.addRound(await runRound(baseline, cycles, block));
    }
    for (const child of children) {
      const answer = await ask(child, 'check', {});
      if (answer.error !== undefined) throw new Error(`${id}: ${answer.error}`);
    }
    const added = (name: string) => now.of(name, 'bare');
    const overFloor = (name: string) => now.of(name, 'floor');
    const figures: string[] = [
      `bare ${median(now.of('bare')).toFixed(1)} µs per request`,
      `floor +${withInterval(added('floor'))}`,
      `ours (MemoryStore) +${withInterval(added('memory'))}`,
      `ours (FileStore) +${withInterval(added('file'))}`,
      `ours (FileStore, flushIntervalMs 100) +${withInterval(added('interval'))}`,
      `${peerName} +${withInterval(added('peer'))}`,
      `ours over the floor: MemoryStore ${withInterval(overFloor('memory'))}, FileStore ${withInterval(overFloor('file'))}, FileStore with flushIntervalMs 100 ${withInterval(overFloor('interval'))}`,
      `FileStore over MemoryStore ${withInterval(now.of('file', 'memory'))}`,
    ];
    if (baseline !== undefined) {
      figures.push(
        `the build in PROMFORK_BENCH_BASELINE (own worker, alternate rounds): over its floor ` +
          `MemoryStore ${withInterval(before.of('memory', 'floor'))}, FileStore ` +
          `${withInterval(before.of('file', 'floor'))}; over its bare MemoryStore ` +
          `${withInterval(before.of('memory', 'bare'))}, FileStore ${withInterval(before.of('file', 'bare'))}; ` +
          `its FileStore over its MemoryStore ${withInterval(before.of('file', 'memory'))}`,
      );
    }
    context.log(figures.join('; '));
    context.note(
      id,
      `${rounds} rounds of ${cycles} cycles, each copy answering ${block} requests per cycle ` +
        `(after ${warmupCycles} warm-up cycles); per round, the median over its cycles of the ` +
        `difference with the reference copy in the same cycle; then the median over rounds with ` +
        `its 95% interval: ${figures.join('; ')}. Our registries counted exactly the requests sent.`,
    );
    context.limit(
      `${id}.added_cpu`,
      `Most of it is the FileStore's write of its changed blocks at the end of every turn (one ` +
        `request per turn here): \`${id}.added_cpu.memory\`, the same adapter on the ` +
        'MemoryStore in the same cycles, is the adapter alone. See "Where the remaining ' +
        'microseconds go".',
    );
    context.limit(
      `${id}.over_floor`,
      'See "Where the remaining microseconds go" in this document (from `node --cpu-prof`).',
    );
    context.limit(
      `${id}.over_floor.memory`,
      'See "Where the remaining microseconds go" in this document (from `node --cpu-prof`).',
    );
    const peerAdded = median(added('peer'));
    return [
      result(`${id}.added_cpu`, 'µs/req', median(added('file')), peerAdded, peerName),
      result(`${id}.added_cpu.memory`, 'µs/req', median(added('memory')), peerAdded, peerName),
      result(`${id}.over_floor`, 'µs/req', median(overFloor('file')), null, ''),
      result(`${id}.over_floor.memory`, 'µs/req', median(overFloor('memory')), null, ''),
      result(`${id}.over_floor.interval`, 'µs/req', median(overFloor('interval')), null, ''),
    ];
  } finally {
    await Promise.all(
      children.map(
        (child) =>
          new Promise<void>((resolve) => {
            if (child.exitCode !== null || child.signalCode !== null) resolve();
            else {
              child.once('exit', () => resolve());
              child.kill('SIGKILL');
            }
          }),
      ),
    );
    rmSync(scratch, { recursive: true, force: true });
  }
}
