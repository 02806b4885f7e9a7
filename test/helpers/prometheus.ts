/**
 * Runs a real Prometheus server (Debian's `prometheus` package) for the e2e tests: a private
 * config with a 1 s scrape interval, its TSDB in a temporary directory, its web API on a free
 * loopback port, and a small client for `/api/v1/query`.
 */
import assert from 'node:assert/strict';
import { accessSync, constants, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { delimiter, join } from 'node:path';
import type { TestContext } from 'node:test';
import { waitFor } from './deadline.js';
import { request } from './http.js';
import { RunningProgram } from './processes.js';

/** Path of the `prometheus` binary: $PROMETHEUS_BIN, else the first one on $PATH. */
export function findPrometheus(): string | undefined {
  return findExecutable('prometheus', process.env.PROMETHEUS_BIN);
}

/**
 * The `prometheus` binary for a test that needs one. Where it is absent the test is skipped
 * with the reason, unless CI is set: CI installs the package, so there its absence fails.
 */
export function prometheusForTest(t: TestContext): string | undefined {
  const binary = findPrometheus();
  if (binary !== undefined) return binary;
  const reason =
    'the prometheus binary is not installed (apt-get install prometheus, or set PROMETHEUS_BIN)';
  if (process.env.CI) assert.fail(`CI is set but ${reason}`);
  t.skip(reason);
  return undefined;
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
  /**
   * Runs an instant query (at `timeSeconds`, default now); returns the result vector (metric
   * labels and numeric value).
   */
  query(
    promql: string,
    timeSeconds?: number,
  ): Promise<Array<{ metric: Record<string, string>; value: number }>>;
  /**
   * Runs an instant query (at `timeSeconds`, default now) whose result holds native
   * histograms; a float sample in the result fails (a classic series where a native one is
   * expected).
   */
  queryHistograms(promql: string, timeSeconds?: number): Promise<HistogramSample[]>;
  /**
   * Values of `label` over the series `match` selects (`/api/v1/label/<label>/values`), what
   * Grafana's `label_values(match, label)` variable query lists.
   */
  labelValues(label: string, match: string): Promise<string[]>;
  /**
   * The exemplars stored for the series `selector` selects between `startSeconds` and
   * `endSeconds` (`/api/v1/query_exemplars`; needs `--enable-feature=exemplar-storage`).
   */
  queryExemplars(
    selector: string,
    startSeconds: number,
    endSeconds: number,
  ): Promise<StoredExemplars[]>;
  /** Stops the server and removes its config and data. */
  stop(): Promise<void>;
}

/** The exemplars of one series as `/api/v1/query_exemplars` returns them. */
export interface StoredExemplars {
  readonly seriesLabels: Record<string, string>;
  readonly exemplars: ReadonlyArray<{
    labels: Record<string, string>;
    value: string;
    timestamp: number;
  }>;
}

/** A native histogram sample as the HTTP API returns it (counts as numbers). */
export interface HistogramSample {
  readonly metric: Record<string, string>;
  readonly count: number;
  readonly sum: number;
  /**
   * Populated buckets: `boundaryRule` (0 open left, 3 closed both, ... as Prometheus numbers
   * them), bounds and count. Positive exponential buckets are `(lower, upper]` (rule 0).
   */
  readonly buckets: ReadonlyArray<{
    boundaryRule: number;
    lower: number;
    upper: number;
    count: number;
  }>;
}

type HistogramQueryResponse = ApiResponse<{
  resultType: string;
  result: Array<{
    metric: Record<string, string>;
    value?: [number, string];
    histogram?: [
      number,
      { count: string; sum: string; buckets?: Array<[number, string, string, string]> },
    ];
  }>;
}>;

interface ApiResponse<T> {
  status: string;
  error?: string;
  data?: T;
}

type QueryResponse = ApiResponse<{
  resultType: string;
  result: Array<{ metric: Record<string, string>; value: [number, string] }>;
}>;

/** The `time` parameter of an instant query, empty for "now". */
function timeParameter(timeSeconds: number | undefined): string {
  return timeSeconds === undefined ? '' : `&time=${timeSeconds}`;
}

/** GETs `path` from the HTTP API and returns its `data`; throws with the API's error. */
async function apiGet<T>(url: string, path: string, what: string): Promise<T> {
  const res = await request(`${url}${path}`, { timeoutMs: 5000 });
  const parsed = JSON.parse(res.body) as ApiResponse<T>;
  if (res.status !== 200 || parsed.status !== 'success' || parsed.data === undefined) {
    throw new Error(`${what} failed: HTTP ${res.status} ${parsed.error ?? res.body}`);
  }
  return parsed.data;
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
  await awaitReady('Prometheus', program, url, stop, {
    timeoutMs: options.timeoutMs,
    intervalMs: 200,
  });
  return {
    url,
    program,
    stop,
    async query(promql, timeSeconds) {
      const data = await apiGet<NonNullable<QueryResponse['data']>>(
        url,
        `/api/v1/query?query=${encodeURIComponent(promql)}${timeParameter(timeSeconds)}`,
        `query ${promql}`,
      );
      return data.result.map((r) => ({ metric: r.metric, value: Number(r.value[1]) }));
    },
    async queryHistograms(promql, timeSeconds) {
      const data = await apiGet<NonNullable<HistogramQueryResponse['data']>>(
        url,
        `/api/v1/query?query=${encodeURIComponent(promql)}${timeParameter(timeSeconds)}`,
        `query ${promql}`,
      );
      return data.result.map((r) => {
        if (r.histogram === undefined) {
          throw new Error(
            `${promql}: a float sample, not a native histogram: ${JSON.stringify(r)}`,
          );
        }
        const h = r.histogram[1];
        return {
          metric: r.metric,
          count: Number(h.count),
          sum: Number(h.sum),
          buckets: (h.buckets ?? []).map(([boundaryRule, lower, upper, count]) => ({
            boundaryRule,
            lower: Number(lower),
            upper: Number(upper),
            count: Number(count),
          })),
        };
      });
    },
    queryExemplars(selector, startSeconds, endSeconds) {
      return apiGet<StoredExemplars[]>(
        url,
        `/api/v1/query_exemplars?query=${encodeURIComponent(selector)}` +
          `&start=${startSeconds}&end=${endSeconds}`,
        `exemplars of ${selector}`,
      );
    },
    labelValues(label, match) {
      return apiGet<string[]>(
        url,
        `/api/v1/label/${encodeURIComponent(label)}/values?match[]=${encodeURIComponent(match)}`,
        `label values of ${label} over ${match}`,
      );
    },
  };
}

/**
 * Waits until the server that `program` runs answers `GET <url>/-/ready` with 200 (Prometheus
 * and the Pushgateway both have that endpoint); fails at once when the program exits first, and
 * after `timeoutMs` (default 30 s). On failure it calls `stop` before throwing.
 */
export async function awaitReady(
  name: string,
  program: RunningProgram,
  url: string,
  stop: () => Promise<void>,
  options: { timeoutMs?: number | undefined; intervalMs: number },
): Promise<void> {
  try {
    await waitFor(
      `${name} to be ready on ${url}`,
      async () => {
        if (program.child.exitCode !== null) {
          throw new Error(
            `${name} exited with code ${program.child.exitCode}\n${program.describeOutput()}`,
          );
        }
        const res = await request(`${url}/-/ready`, { timeoutMs: 2000 });
        return res.status === 200 ? true : undefined;
      },
      { timeoutMs: options.timeoutMs ?? 30_000, intervalMs: options.intervalMs },
    );
  } catch (error) {
    await stop();
    throw error;
  }
}

/** Waits (bounded) until Prometheus has scraped job `job` successfully: `up` is 1. */
export async function waitForUp(server: PrometheusServer, job: string): Promise<void> {
  await waitFor(
    `Prometheus to scrape job ${job} successfully`,
    async () => {
      const up = await server.query(`up{job="${job}"}`);
      return up.length === 1 && up[0]!.value === 1 ? true : undefined;
    },
    { timeoutMs: 30_000, intervalMs: 250 },
  );
}

/**
 * Waits (bounded) until the single value of `promql` equals `expected`, i.e. until a scrape
 * after the traffic is stored; the failure names the last value seen.
 */
export async function waitForValue(
  server: PrometheusServer,
  promql: string,
  expected: number,
): Promise<void> {
  let last: number | undefined;
  await waitFor(
    `${promql} to reach ${expected}`,
    async () => {
      const result = await server.query(promql);
      last = result[0]?.value;
      return last === expected ? true : undefined;
    },
    { timeoutMs: 30_000, intervalMs: 250 },
  ).catch((error: Error) => {
    throw new Error(`${error.message}; last value ${last}`);
  });
}
