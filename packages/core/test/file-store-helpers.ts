/**
 * Helpers shared by the FileStore tests: temporary directories, forked workers, and turning
 * collected families into plain objects that assertions can compare whole.
 */
import { type ChildProcess, fork } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import type { CollectedFamily } from '../src/store.js';
import type { MetricDescriptor } from '../src/types.js';
import type { ApiCommand } from './fixtures/api-worker.js';
import type { ExemplarCommand } from './fixtures/exemplar-worker.js';
import type { WorkerCommand } from './fixtures/file-store-worker.js';
import type { HeldChildCommand } from './fixtures/held-child-worker.js';

/** A fresh directory under the system temp dir; removed by the returned cleanup. */
export function tempDir(prefix = 'promfork-fs-'): { dir: string; cleanup: () => void } {
  const dir = mkdtempSync(join(tmpdir(), prefix));
  return { dir, cleanup: () => rmSync(dir, { recursive: true, force: true }) };
}

/** A counter descriptor. */
export function counterOf(name: string, labelNames: string[] = []): MetricDescriptor {
  return { name, help: `${name} help`, type: 'counter', labelNames, buckets: [], mode: 'sum' };
}

/** `{ "<name>{<labels>}": cells }` for every series of the families, for whole comparisons. */
export function flatten(
  families: readonly CollectedFamily[],
  skipSelf = true,
): Record<string, number[]> {
  const out: Record<string, number[]> = {};
  for (const family of families) {
    if (skipSelf && family.descriptor.name.startsWith('promfork_')) continue;
    for (const s of family.series) {
      const labels = family.descriptor.labelNames.map((n, i) => `${n}=${s.labelValues[i]}`);
      for (const [k, v] of Object.entries(s.extraLabels ?? {})) labels.push(`${k}=${v}`);
      out[`${family.descriptor.name}{${labels.join(',')}}`] = Array.from(s.cells);
    }
  }
  return out;
}

/** The value of slot 0 of the only series of `name` (undefined when absent). */
export function singleValue(
  families: readonly CollectedFamily[],
  name: string,
): number | undefined {
  const family = families.find((f) => f.descriptor.name === name);
  return family?.series[0]?.cells[0];
}

type DistributiveOmit<T, K extends PropertyKey> = T extends unknown ? Omit<T, K> : never;
/** A command for either fixture, without the id the helper assigns. */
type Command = DistributiveOmit<
  WorkerCommand | ApiCommand | ExemplarCommand | HeldChildCommand,
  'id'
>;

/**
 * A forked worker: `file-store-worker` (store API, directory in argv) by default,
 * `api-worker` (public metric API, directory in PROMETHEUS_MULTIPROC_DIR), `exemplar-worker`
 * (a counter and a histogram with exemplars, likewise), `held-child-worker` (children held
 * across drops of their series, likewise) or `hammer-writer` (writes every turn until killed);
 * `env` is added to the worker's environment.
 */
export class Worker {
  readonly child: ChildProcess;
  readonly ready: Promise<{ fileName: string; pid: number }>;
  readonly exited: Promise<{ code: number | null; signal: NodeJS.Signals | null }>;
  private nextId = 1;
  private readonly waiting = new Map<number, (reply: { text?: string }) => void>();

  constructor(
    dir: string,
    fixture:
      | 'file-store-worker'
      | 'api-worker'
      | 'exemplar-worker'
      | 'held-child-worker'
      | 'hammer-writer' = 'file-store-worker',
    env: Record<string, string> = {},
  ) {
    const script = fileURLToPath(new URL(`./fixtures/${fixture}.js`, import.meta.url));
    this.child = fork(script, [dir], {
      stdio: ['ignore', 'inherit', 'inherit', 'ipc'],
      env: { ...process.env, ...env, PROMETHEUS_MULTIPROC_DIR: dir },
    });
    this.exited = new Promise((resolve) => {
      this.child.on('exit', (code, signal) => resolve({ code, signal }));
    });
    this.ready = new Promise((resolve, reject) => {
      this.child.once('error', reject);
      this.child.on(
        'message',
        (message: { ready?: string | true; ack?: number; pid: number; text?: string }) => {
          if (message.ready !== undefined) {
            resolve({ fileName: String(message.ready), pid: message.pid });
          }
          if (message.ack !== undefined) this.waiting.get(message.ack)?.(message);
        },
      );
      this.child.once('exit', () => reject(new Error('worker exited before it was ready')));
    });
  }

  get pid(): number {
    return this.child.pid!;
  }

  /** Sends a command; resolves once the worker has performed it AND a turn has passed. */
  run(command: Command): Promise<void> {
    return this.request(command).then(() => undefined);
  }

  /**
   * Asks a metrics worker for `register.metrics()` (an `exemplar-worker` for
   * `register.scrape(accept)`, a protobuf body in base64).
   */
  async scrape(accept?: string): Promise<string> {
    const reply = await this.request(
      accept === undefined ? { op: 'scrape' } : { op: 'scrape', accept },
    );
    return reply.text ?? '';
  }

  /** Asks a `file-store-worker` for its own scrape (`store.collect()`), flattened. */
  async collect(): Promise<Record<string, number[]>> {
    const reply = await this.request({ op: 'collect' });
    return JSON.parse(reply.text ?? '{}') as Record<string, number[]>;
  }

  private request(command: Command): Promise<{ text?: string }> {
    const id = this.nextId++;
    return new Promise((resolve) => {
      this.waiting.set(id, resolve);
      this.child.send({ ...command, id });
    });
  }

  /** SIGKILLs the worker and waits until it is reaped. */
  async kill(): Promise<void> {
    this.child.kill('SIGKILL');
    await this.exited;
  }

  /** Asks the worker to exit normally and waits for it. */
  async stop(): Promise<void> {
    if (this.child.exitCode === null && this.child.signalCode === null) {
      this.child.send({ op: 'exit', id: 0 });
    }
    await this.exited;
  }
}
