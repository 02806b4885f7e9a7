/**
 * Runs a real Prometheus server (Debian's `prometheus` package) for the e2e tests: a private
 * config with a 1 s scrape interval, its TSDB in a temporary directory, its web API on a free
 * loopback port, and a small client for `/api/v1/query`.
 */
import { accessSync, constants, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { delimiter, join } from 'node:path';
import { waitFor } from './deadline.js';
import { request } from './http.js';
import { RunningProgram } from './processes.js';

/** Path of the `prometheus` binary: $PROMETHEUS_BIN, else the first one on $PATH. */
export function findPrometheus(): string | undefined {
  return findExecutable('prometheus', process.env.PROMETHEUS_BIN);
}

/** Path of executable `name`: `override` when set (an environment variable), else on $PATH. */
export function findExecutable(name: string, override: string | undefined): string | undefined {
  const candidates = override
    ? [override]
    : (process.env.PATH ?? '')
        .split(delimiter)
        .filter((dir) => dir !== '')
        .map((dir) => join(dir, name));
  for (const candidate of candidates) {
    try {
      accessSync(candidate, constants.X_OK);
      return candidate;
    } catch {
      // not here
    }
  }
  return undefined;
}

/** A loopback port that was free a moment ago (Prometheus cannot report a port-0 choice). */
export async function freePort(): Promise<number> {
  const server = createServer();
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(0, '127.0.0.1', resolve);
  });
  const address = server.address();
  await new Promise<void>((resolve) => server.close(() => resolve()));
  if (address === null || typeof address === 'string') throw new Error('no port from listen(0)');
  return address.port;
}

/** A running Prometheus server. */
export interface PrometheusServer {
  readonly url: string;
  readonly program: RunningProgram;
  /** Runs an instant query; returns the result vector (metric labels and numeric value). */
  query(promql: string): Promise<Array<{ metric: Record<string, string>; value: number }>>;
  /** Stops the server and removes its config and data. */
  stop(): Promise<void>;
}

interface QueryResponse {
  status: string;
  error?: string;
  data?: {
    resultType: string;
    result: Array<{ metric: Record<string, string>; value: [number, string] }>;
  };
}

/** Starts Prometheus scraping `targets` (host:port) every second, resolved when it is ready. */
export async function startPrometheus(
  binary: string,
  options: {
    jobName: string;
    targets: readonly string[];
    timeoutMs?: number;
    /** Feature flags, e.g. `native-histograms` (then Prometheus asks for protobuf first). */
    features?: readonly string[];
  },
): Promise<PrometheusServer> {
  const home = mkdtempSync(join(tmpdir(), 'promfork-prometheus-'));
  const configFile = join(home, 'prometheus.yml');
  writeFileSync(
    configFile,
    [
      'global:',
      '  scrape_interval: 1s',
      '  scrape_timeout: 1s',
      'scrape_configs:',
      `  - job_name: ${JSON.stringify(options.jobName)}`,
      '    static_configs:',
      `      - targets: [${options.targets.map((t) => JSON.stringify(t)).join(', ')}]`,
      '',
    ].join('\n'),
  );
  const port = await freePort();
  const url = `http://127.0.0.1:${port}`;
  const program = new RunningProgram(
    'prometheus',
    binary,
    [
      `--config.file=${configFile}`,
      `--storage.tsdb.path=${join(home, 'data')}`,
      `--web.listen-address=127.0.0.1:${port}`,
      '--log.level=warn',
      ...(options.features?.length ? [`--enable-feature=${options.features.join(',')}`] : []),
    ],
    process.env,
  );
  const stop = async () => {
    await program.stop('SIGTERM', 5000);
    rmSync(home, { recursive: true, force: true });
  };
  try {
    await waitFor(
      `Prometheus to be ready on ${url}`,
      async () => {
        if (program.child.exitCode !== null) {
          throw new Error(
            `prometheus exited with code ${program.child.exitCode}\n${program.describeOutput()}`,
          );
        }
        const res = await request(`${url}/-/ready`, { timeoutMs: 2000 });
        return res.status === 200 ? true : undefined;
      },
      { timeoutMs: options.timeoutMs ?? 30_000, intervalMs: 200 },
    );
  } catch (error) {
    await stop();
    throw error;
  }
  return {
    url,
    program,
    stop,
    async query(promql) {
      const res = await request(`${url}/api/v1/query?query=${encodeURIComponent(promql)}`, {
        timeoutMs: 5000,
      });
      const parsed = JSON.parse(res.body) as QueryResponse;
      if (res.status !== 200 || parsed.status !== 'success' || parsed.data === undefined) {
        throw new Error(`query ${promql} failed: HTTP ${res.status} ${parsed.error ?? res.body}`);
      }
      return parsed.data.result.map((r) => ({ metric: r.metric, value: Number(r.value[1]) }));
    },
  };
}
