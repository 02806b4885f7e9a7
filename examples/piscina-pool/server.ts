/**
 * A single-process server that hands CPU work to a Piscina pool of worker threads. The tasks
 * record metrics with the ordinary API (task.ts); the main thread serves `/metrics` with every
 * thread's counts merged, including threads the pool has already ended. No promfork code runs
 * in the pool: each thread that records a metric is a writer of its own in the directory.
 *
 *   node examples/dist/piscina-pool/server.js        # PORT (default 3003), HOST, PROMETHEUS_MULTIPROC_DIR
 *   curl 'http://127.0.0.1:3003/fib?n=25'
 *   curl http://127.0.0.1:3003/metrics
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { createServer } from 'node:http';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { prepareDirectory, register } from '@promfork/core';
import { Piscina } from 'piscina';

// The store is chosen from the environment on first use, and worker threads copy the
// environment when they start: set the directory before either happens.
const given = process.env.PROMETHEUS_MULTIPROC_DIR;
const dir = given || mkdtempSync(join(tmpdir(), 'promfork-piscina-'));
process.env.PROMETHEUS_MULTIPROC_DIR = dir;
// A fresh start: no gauge or count of an earlier run of this server.
prepareDirectory({ dir });

const pool = new Piscina({
  filename: new URL('./task.js', import.meta.url).href,
  maxThreads: 4,
  // Idle threads end after a second; their counts stay (folded into the directory's archive
  // at the next scrape), their live gauges go.
  idleTimeout: 1000,
});

const port = Number(process.env.PORT ?? 3003);
const host = process.env.HOST ?? '127.0.0.1';

const server = createServer((req, res) => {
  const url = new URL(req.url ?? '/', 'http://localhost');
  if (req.method === 'GET' && url.pathname === '/metrics') {
    register.metrics().then(
      (text) => {
        res.writeHead(200, { 'content-type': register.contentType });
        res.end(text);
      },
      (error: unknown) => {
        res.writeHead(500);
        res.end(`${String(error)}\n`);
      },
    );
    return;
  }
  if (req.method === 'GET' && url.pathname === '/fib') {
    const n = Number(url.searchParams.get('n') ?? 20);
    if (!Number.isInteger(n) || n < 0 || n > 35) {
      res.writeHead(400);
      res.end('n must be an integer from 0 to 35\n');
      return;
    }
    pool.run({ n }).then(
      (value: number) => res.end(`fib(${n}) = ${value}\n`),
      (error: unknown) => {
        res.writeHead(500);
        res.end(`${String(error)}\n`);
      },
    );
    return;
  }
  res.writeHead(404);
  res.end('try /fib?n=25 or /metrics\n');
});

server.listen(port, host, () => {
  const address = server.address();
  const actual = typeof address === 'object' && address !== null ? address.port : port;
  console.log(`piscina example listening on http://${host}:${actual} (metrics in ${dir})`);
});

for (const signal of ['SIGINT', 'SIGTERM'] as const) {
  process.once(signal, () => {
    server.close();
    void pool.destroy().then(() => {
      // A directory this example made for itself goes with it.
      if (!given) rmSync(dir, { recursive: true, force: true });
    });
  });
}
