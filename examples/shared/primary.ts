/**
 * The node:cluster primary every example shares: prepares the multi-process directory, forks
 * the workers, replaces a worker that dies, and shuts everything down on SIGINT/SIGTERM.
 *
 * The primary serves no HTTP itself and never touches a metric: workers write their own files
 * and whichever worker answers GET /metrics merges them. All it does for promfork is
 * `prepareDirectory()` before the first fork, so a restart never shows the previous run's
 * numbers, and `compactOnWorkerExit()`, so a dead worker's file is folded into the archive
 * at once.
 *
 * Port 0: node:cluster binds one listening socket in the primary per (address, port) and hands
 * connections to the workers round-robin, so every worker that calls listen(0) shares the port
 * the first one got, and so does a replacement while any worker lives. The port is taken from
 * the first worker's `listening` event and printed on the ready line.
 *
 * Lines written to stdout (one event per line, `key=value` fields, parsed by the e2e tests):
 *   [name] worker <id> pid=<pid> listening on <url>
 *   [name] ready url=<url> workers=<n> dir=<dir>
 *   [name] worker <id> pid=<pid> died (<reason>); starting a replacement
 *   [name] stopped
 */
import cluster, { type Worker } from 'node:cluster';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { compactOnWorkerExit, prepareDirectory } from '@promfork/core';
import type { ClusterConfig } from './config.js';

/** Options of {@link startPrimary}. */
export interface PrimaryOptions {
  /** Short name used in log lines, e.g. `express`. */
  readonly name: string;
  /** Absolute path of the compiled worker entry script. */
  readonly workerScript: string;
  readonly config: ClusterConfig;
  /**
   * How long stop() waits for workers to finish their requests before SIGKILL.
   * @default 5000
   */
  readonly stopTimeoutMs?: number;
  /** Where event lines go. @default console.log */
  readonly log?: (line: string) => void;
}

/** A running cluster, returned once every initial worker is listening. */
export interface RunningCluster {
  /** `http://host:port`, with the port the workers actually listen on. */
  readonly url: string;
  readonly port: number;
  /** The multi-process directory the workers write to. */
  readonly dir: string;
  /** True when the primary created `dir` itself (it is then removed by stop()). */
  readonly dirIsTemporary: boolean;
  /** Pids of the workers alive now. */
  workerPids(): number[];
  /**
   * Stops the workers (SIGTERM, then SIGKILL after the timeout), removes a temporary
   * directory, and resolves when all is done. Safe to call more than once.
   */
  stop(): Promise<void>;
  /** Resolves with an exit status when the cluster stops, by stop() (0) or by a fatal error (1). */
  readonly done: Promise<number>;
}

function describeExit(code: number | null, signal: string | null): string {
  return signal === null ? `exit code ${code}` : `signal ${signal}`;
}

/**
 * Starts the cluster. Rejects if a worker fails before it ever listened (a port already in
 * use, a crash at start-up): restarting such a worker would only loop.
 */
export function startPrimary(options: PrimaryOptions): Promise<RunningCluster> {
  if (!cluster.isPrimary) {
    return Promise.reject(new Error('startPrimary() must run in the cluster primary'));
  }
  const log = options.log ?? ((line: string) => console.log(line));
  const tag = `[${options.name}]`;
  const { config } = options;
  const stopTimeoutMs = options.stopTimeoutMs ?? 5000;

  const dirIsTemporary = config.dir === undefined;
  const dir = config.dir ?? mkdtempSync(join(tmpdir(), `promfork-${options.name}-`));
  // Creates the directory or removes a previous run's files from it; throws a StoreError
  // naming the directory when it cannot be used.
  prepareDirectory({ dir });
  // Folds each exited worker's file into the directory's archive (its counters and histograms
  // keep counting), so the directory holds the live workers' files and one archive however
  // many workers come and go. Without it the workers would do it at their next scrape.
  const stopCompacting = compactOnWorkerExit({ dir });

  cluster.setupPrimary({ exec: options.workerScript, args: [] });
  const workerEnv = {
    PROMETHEUS_MULTIPROC_DIR: dir,
    HOST: config.host,
    PORT: String(config.port),
  };

  const listened = new WeakSet<Worker>();
  let onListening: (worker: Worker, address: { port: number }) => void = () => {};
  let onExit: (worker: Worker, code: number | null, signal: string | null) => void = () => {};
  let port: number | undefined;
  let stopping = false;
  let resolveDone!: (status: number) => void;
  const done = new Promise<number>((resolve) => {
    resolveDone = resolve;
  });

  const stop = async (status = 0): Promise<void> => {
    if (stopping) {
      await done;
      return;
    }
    stopping = true;
    const workers = Object.values(cluster.workers ?? {}).filter(
      (w): w is Worker => w !== undefined && !w.isDead(),
    );
    await Promise.all(workers.map((worker) => stopWorker(worker, stopTimeoutMs)));
    // The helper compacts one event-loop turn after an exit; let that finish first.
    await new Promise((resolve) => setImmediate(resolve));
    stopCompacting();
    cluster.off('listening', onListening);
    cluster.off('exit', onExit);
    if (dirIsTemporary) rmSync(dir, { recursive: true, force: true });
    log(`${tag} stopped`);
    resolveDone(status);
  };

  return new Promise<RunningCluster>((resolve, reject) => {
    let started = false;
    const urlFor = (p: number) => `http://${config.host}:${p}`;

    onListening = (worker, address) => {
      listened.add(worker);
      port ??= address.port;
      log(
        `${tag} worker ${worker.id} pid=${worker.process.pid} listening on ${urlFor(address.port)}`,
      );
      if (!started && Object.values(cluster.workers ?? {}).every((w) => !w || listened.has(w))) {
        started = true;
        const url = urlFor(port);
        log(`${tag} ready url=${url} workers=${config.workers} dir=${dir}`);
        resolve({
          url,
          port,
          dir,
          dirIsTemporary,
          workerPids: () =>
            Object.values(cluster.workers ?? {})
              .filter((w): w is Worker => w !== undefined && !w.isDead())
              .map((w) => w.process.pid)
              .filter((pid): pid is number => pid !== undefined),
          stop: () => stop(0),
          done,
        });
      }
    };

    onExit = (worker, code, signal) => {
      if (stopping) return;
      const how = describeExit(code, signal);
      if (!listened.has(worker)) {
        const error = new Error(
          `${options.name} worker pid=${worker.process.pid} stopped before it listened on ` +
            `${config.host}:${config.port} (${how}); see its error output`,
        );
        // Before the ready line the caller reports the rejection; afterwards only the log can.
        if (started) log(`${tag} fatal: ${error.message}`);
        void stop(1).then(() => (started ? undefined : reject(error)));
        return;
      }
      if (signal === null && code === 0) {
        // A worker that exits cleanly was asked to (SIGINT from a terminal, a process manager):
        // it is not replaced. When the last one is gone there is nothing left to serve.
        log(`${tag} worker ${worker.id} pid=${worker.process.pid} exited cleanly`);
        if (Object.values(cluster.workers ?? {}).every((w) => !w || w.isDead())) void stop(0);
        return;
      }
      log(
        `${tag} worker ${worker.id} pid=${worker.process.pid} died (${how}); starting a replacement`,
      );
      cluster.fork(workerEnv);
    };

    cluster.on('listening', onListening);
    cluster.on('exit', onExit);
    for (let i = 0; i < config.workers; i++) cluster.fork(workerEnv);
  });
}

/** SIGTERM (the worker closes its server and exits), then SIGKILL after `timeoutMs`. */
function stopWorker(worker: Worker, timeoutMs: number): Promise<void> {
  return new Promise((resolve) => {
    if (worker.isDead()) {
      resolve();
      return;
    }
    const timer = setTimeout(() => worker.process.kill('SIGKILL'), timeoutMs);
    worker.once('exit', () => {
      clearTimeout(timer);
      resolve();
    });
    worker.process.kill('SIGTERM');
  });
}

/**
 * Runs `startPrimary` as a program: stops on SIGINT/SIGTERM and exits with the cluster's
 * status. A second Ctrl-C exits at once.
 */
export async function runPrimaryProgram(options: PrimaryOptions): Promise<void> {
  let running: RunningCluster;
  try {
    running = await startPrimary(options);
  } catch (error) {
    console.error(`[${options.name}] fatal: ${(error as Error).message}`);
    process.exit(1);
  }
  let signals = 0;
  const onSignal = () => {
    signals++;
    if (signals > 1) process.exit(130);
    void running.stop();
  };
  process.on('SIGINT', onSignal);
  process.on('SIGTERM', onSignal);
  process.exit(await running.done);
}
