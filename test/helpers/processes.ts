/**
 * Starts real programs for the e2e tests (an example cluster, a Prometheus server) in their
 * own process group, so one kill of the group ends the program and every process it forked.
 * A test must call `stop()` in an `after` hook; as a last resort every group still alive is
 * SIGKILLed when the test process exits, so no process outlives the test run.
 */
import { type ChildProcess, spawn } from 'node:child_process';
import { once } from 'node:events';
import { fileURLToPath } from 'node:url';
import { DeadlineError, waitFor, withDeadline } from './deadline.js';

const liveGroups = new Set<number>();
process.on('exit', () => {
  for (const pgid of liveGroups) killGroup(pgid, 'SIGKILL');
});

function killGroup(pgid: number, signal: NodeJS.Signals): void {
  try {
    process.kill(-pgid, signal);
  } catch {
    // ESRCH: the group is already gone.
  }
}

/** A program running in its own process group, with its output captured line by line. */
export class RunningProgram {
  readonly child: ChildProcess;
  readonly pid: number;
  /** Every stdout line so far. */
  readonly stdout: string[] = [];
  /** Every stderr line so far (shown in failure messages). */
  readonly stderr: string[] = [];
  /**
   * Settles when the program has exited and its output is fully read ('close', not 'exit':
   * after 'exit' the last lines may still be in the pipe).
   */
  readonly exited: Promise<{ code: number | null; signal: NodeJS.Signals | null }>;
  private readonly listeners = new Set<(line: string) => void>();

  constructor(
    readonly label: string,
    command: string,
    args: readonly string[],
    env: NodeJS.ProcessEnv,
  ) {
    this.child = spawn(command, args, {
      // A new process group: kill(-pid) reaches the cluster's workers too.
      detached: true,
      stdio: ['ignore', 'pipe', 'pipe'],
      env,
    });
    if (this.child.pid === undefined) throw new Error(`${label}: could not start ${command}`);
    this.pid = this.child.pid;
    liveGroups.add(this.pid);
    this.exited = once(this.child, 'close').then(([code, signal]) => ({
      code: code as number | null,
      signal: signal as NodeJS.Signals | null,
    }));
    this.collect(this.child.stdout, this.stdout, true);
    this.collect(this.child.stderr, this.stderr, false);
  }

  private collect(stream: NodeJS.ReadableStream | null, into: string[], notify: boolean): void {
    if (stream === null) return;
    let partial = '';
    stream.setEncoding('utf8');
    stream.on('data', (chunk: string) => {
      const parts = (partial + chunk).split('\n');
      partial = parts.pop() ?? '';
      for (const line of parts) {
        into.push(line);
        if (notify) for (const listener of this.listeners) listener(line);
      }
    });
  }

  /**
   * Resolves with the match of the first stdout line at index >= `from` that matches
   * `pattern`. Rejects if the program exits first or after `timeoutMs`.
   */
  async waitForLine(pattern: RegExp, timeoutMs: number, from = 0): Promise<RegExpMatchArray> {
    for (const line of this.stdout.slice(from)) {
      const match = line.match(pattern);
      if (match) return match;
    }
    let listener: ((line: string) => void) | undefined;
    const found = new Promise<RegExpMatchArray>((resolve, reject) => {
      listener = (line) => {
        const match = line.match(pattern);
        if (match) resolve(match);
      };
      this.listeners.add(listener);
      this.exited.then(({ code, signal }) =>
        reject(
          new Error(
            `${this.label} exited (code ${code}, signal ${signal}) before printing ${pattern}\n` +
              this.describeOutput(),
          ),
        ),
      );
    });
    try {
      return await withDeadline(`${this.label} to print ${pattern}`, found, timeoutMs);
    } catch (error) {
      if (error instanceof DeadlineError) {
        throw new DeadlineError(`${error.message}\n${this.describeOutput()}`);
      }
      throw error;
    } finally {
      if (listener) this.listeners.delete(listener);
    }
  }

  /** The last lines of output, for failure messages. */
  describeOutput(): string {
    return (
      `--- ${this.label} stdout (last 30 lines)\n${this.stdout.slice(-30).join('\n')}\n` +
      `--- ${this.label} stderr (last 30 lines)\n${this.stderr.slice(-30).join('\n')}`
    );
  }

  /**
   * Asks the program to stop with `signal`, waits up to `timeoutMs` for it to exit, then
   * SIGKILLs its whole process group (workers included) whatever happened. Returns how the
   * program itself exited (signal SIGKILL if it had to be killed).
   */
  async stop(
    signal: NodeJS.Signals = 'SIGTERM',
    timeoutMs = 5000,
  ): Promise<{ code: number | null; signal: NodeJS.Signals | null }> {
    if (this.child.exitCode === null && this.child.signalCode === null) this.child.kill(signal);
    const closed = await Promise.race([
      this.exited.then(() => true),
      new Promise<false>((resolve) => setTimeout(resolve, timeoutMs, false).unref()),
    ]);
    // Not closed in time: the program hangs, or something it started still holds its output.
    if (!closed) killGroup(this.pid, 'SIGKILL');
    const result = await this.exited;
    // Workers normally exit with the primary; kill stragglers and wait until none is left.
    killGroup(this.pid, 'SIGKILL');
    await waitFor('the process group to be gone', () => (groupAlive(this.pid) ? undefined : true), {
      timeoutMs: 5000,
      intervalMs: 50,
    }).catch(() => {
      // Zombies reparented to a PID 1 that does not reap still answer kill(0); they run no
      // code, so this is not worth failing a test over.
    });
    liveGroups.delete(this.pid);
    return result;
  }
}

function groupAlive(pgid: number): boolean {
  try {
    process.kill(-pgid, 0);
    return true;
  } catch {
    return false;
  }
}

/** True while a process with this pid exists. */
export function processAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
}

/**
 * The compiled cluster programs the e2e tests start: the three examples, and a stand-in for
 * PM2 cluster mode (a primary with no promfork code that runs the Express example's worker).
 */
export const CLUSTER_SCRIPTS = {
  express: fileURLToPath(
    new URL('../../../examples/dist/express-cluster/server.js', import.meta.url),
  ),
  koa: fileURLToPath(new URL('../../../examples/dist/koa-cluster/server.js', import.meta.url)),
  fastify: fileURLToPath(
    new URL('../../../examples/dist/fastify-cluster/server.js', import.meta.url),
  ),
  'pm2-like': fileURLToPath(new URL('../fixtures/pm2-like-primary.js', import.meta.url)),
} as const;

/** A cluster program of {@link CLUSTER_SCRIPTS}. */
export type ClusterKind = keyof typeof CLUSTER_SCRIPTS;

/** A started example cluster. */
export interface ExampleCluster {
  readonly program: RunningProgram;
  /** `http://127.0.0.1:<port>` from the ready line. */
  readonly url: string;
  /** Pids of the workers alive according to the primary's event lines. */
  workerPids(): number[];
}

/** Parses the primary's event lines (see examples/shared/primary.ts) into the live worker pids. */
function liveWorkers(lines: readonly string[]): number[] {
  const alive = new Set<number>();
  for (const line of lines) {
    const listening = line.match(/ pid=(\d+) listening on /);
    if (listening) alive.add(Number(listening[1]));
    const gone = line.match(/ pid=(\d+) (?:died|exited)/);
    if (gone) alive.delete(Number(gone[1]));
  }
  return [...alive];
}

/**
 * Starts a cluster program on port 0 with `workers` workers writing to `dir`, and resolves
 * once its ready line is printed. `env` adds variables (e.g. `PROMFORK_NATIVE_HISTOGRAMS`).
 */
export async function startExampleCluster(
  kind: ClusterKind,
  options: { workers: number; dir: string; timeoutMs?: number; env?: NodeJS.ProcessEnv },
): Promise<ExampleCluster> {
  const env: NodeJS.ProcessEnv = {
    ...process.env,
    ...options.env,
    PORT: '0',
    WORKERS: String(options.workers),
    PROMETHEUS_MULTIPROC_DIR: options.dir,
  };
  const program = new RunningProgram(
    `${kind} cluster`,
    process.execPath,
    [CLUSTER_SCRIPTS[kind]],
    env,
  );
  try {
    const ready = await program.waitForLine(/ ready url=(\S+) /, options.timeoutMs ?? 30_000);
    return {
      program,
      url: ready[1]!,
      workerPids: () => liveWorkers(program.stdout),
    };
  } catch (error) {
    await program.stop('SIGKILL');
    throw error;
  }
}
