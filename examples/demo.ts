/**
 * `npm start`: the Express cluster example with a guided tour.
 *
 * Starts 4 Express workers on 127.0.0.1 (port 3000, or a free port if 3000 is taken, or PORT)
 * with their metrics in a fresh temporary directory (or PROMETHEUS_MULTIPROC_DIR), sends
 * itself a little traffic spread over all workers, prints a sample of the merged /metrics and
 * where to look, then keeps serving until Ctrl-C, when it stops the workers and removes the
 * temporary directory.
 */
import { request } from 'node:http';
import { createServer } from 'node:net';
import { fileURLToPath } from 'node:url';
import { type ClusterConfig, ConfigError, readClusterConfig } from './shared/config.js';
import { type RunningCluster, startPrimary } from './shared/primary.js';
import { SERVED_BY_HEADER } from './shared/routes.js';

const PREFERRED_PORT = 3000;
/** Generous: on a busy machine a worker can be slow to get CPU. */
const REQUEST_TIMEOUT_MS = 15_000;

/** True if host:port can be bound right now. */
function portIsFree(host: string, port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const probe = createServer();
    probe.once('error', () => resolve(false));
    probe.listen(port, host, () => probe.close(() => resolve(true)));
  });
}

/** One request on its own connection (so the cluster spreads them), body as text. */
function get(
  url: string,
  method = 'GET',
): Promise<{ status: number; servedBy: string; body: string }> {
  return new Promise((resolve, reject) => {
    const req = request(url, { method, agent: false, timeout: REQUEST_TIMEOUT_MS }, (res) => {
      let body = '';
      res.setEncoding('utf8');
      res.on('data', (chunk: string) => {
        body += chunk;
      });
      res.on('end', () =>
        resolve({
          status: res.statusCode ?? 0,
          servedBy: String(res.headers[SERVED_BY_HEADER] ?? '?'),
          body,
        }),
      );
    });
    req.on('timeout', () =>
      req.destroy(new Error(`${method} ${url}: no answer within ${REQUEST_TIMEOUT_MS / 1000} s`)),
    );
    req.on('error', reject);
    req.end();
  });
}

/** Who answered how many of the demo's requests, and the requests that failed. */
interface TrafficResult {
  readonly servedBy: Map<string, number>;
  readonly failures: string[];
}

/** A few dozen requests over every route, including 404s, four at a time. */
async function sendTraffic(url: string): Promise<TrafficResult> {
  const paths: Array<[string, string]> = [];
  for (let i = 1; i <= 8; i++) {
    paths.push(['GET', `/users/${i}`]);
    paths.push(['GET', `/users/${i}/posts/${i * 10}`]);
    paths.push(['POST', `/users/${i}/posts`]);
  }
  paths.push(['GET', '/'], ['GET', '/users/nobody'], ['GET', '/no/such/page']);
  const servedBy = new Map<string, number>();
  const failures: string[] = [];
  for (let i = 0; i < paths.length; i += 4) {
    const batch = paths.slice(i, i + 4);
    // A failed request is reported, not fatal: the demo is still worth looking at.
    const results = await Promise.allSettled(
      batch.map(([method, path]) => get(url + path, method)),
    );
    for (const result of results) {
      if (result.status === 'rejected') {
        failures.push(String((result.reason as Error).message));
        continue;
      }
      const pid = result.value.servedBy;
      servedBy.set(pid, (servedBy.get(pid) ?? 0) + 1);
    }
  }
  return { servedBy, failures };
}

async function main(): Promise<void> {
  let config: ClusterConfig;
  try {
    config = readClusterConfig({ port: PREFERRED_PORT });
  } catch (error) {
    if (!(error instanceof ConfigError)) throw error;
    console.error(`demo: ${error.message}`);
    process.exit(2);
  }
  if (process.env.PORT === undefined && !(await portIsFree(config.host, config.port))) {
    console.log(
      `port ${config.port} is in use; the demo takes a free port instead (set PORT to choose)`,
    );
    config = { ...config, port: 0 };
  }

  let cluster: RunningCluster;
  try {
    cluster = await startPrimary({
      name: 'demo',
      workerScript: fileURLToPath(new URL('./express-cluster/worker.js', import.meta.url)),
      config,
    });
  } catch (error) {
    console.error(`demo: ${(error as Error).message}`);
    process.exit(1);
  }
  let signals = 0;
  const onSignal = () => {
    if (++signals > 1) process.exit(130);
    console.log('\nstopping the workers...');
    void cluster.stop();
  };
  process.on('SIGINT', onSignal);
  process.on('SIGTERM', onSignal);

  const { servedBy, failures } = await sendTraffic(cluster.url);
  for (const failure of failures) console.log(`warning: ${failure}`);
  let sample: string[];
  let scrapedBy: string;
  try {
    const metrics = await get(`${cluster.url}/metrics`);
    scrapedBy = metrics.servedBy;
    sample = metrics.body
      .split('\n')
      .filter((line) => line.startsWith('http_requests_total'))
      .slice(0, 12);
  } catch (error) {
    scrapedBy = '?';
    sample = [`(GET /metrics failed: ${(error as Error).message})`];
  }
  const perWorker = [...servedBy.entries()].map(([pid, n]) => `pid ${pid}: ${n}`).join(', ');

  console.log(
    [
      '',
      `promfork demo: ${config.workers} Express workers behind ${cluster.url}`,
      `metrics directory: ${cluster.dir}${cluster.dirIsTemporary ? ' (temporary, removed on exit)' : ''}`,
      '',
      `sent ${[...servedBy.values()].reduce((a, b) => a + b, 0)} requests, answered by ${servedBy.size} workers (${perWorker})`,
      `a sample of GET /metrics, answered by worker pid ${scrapedBy} with every worker's counts:`,
      '',
      ...sample.map((line) => `  ${line}`),
      '',
      'look at:',
      `  ${cluster.url}/metrics                 merged metrics (each request may hit another worker)`,
      `  curl -i ${cluster.url}/users/7/posts/42   the x-served-by header names the worker`,
      '  examples/prometheus.yml                    a Prometheus config that scrapes the examples',
      '',
      'Ctrl-C to stop.',
    ].join('\n'),
  );
  process.exit(await cluster.done);
}

await main();
