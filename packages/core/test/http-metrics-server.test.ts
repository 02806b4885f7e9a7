import assert from 'node:assert/strict';
import { request } from 'node:http';
import { describe, it } from 'node:test';
import { Counter } from '../src/counter.js';
import { InvalidOptionError, ListenError } from '../src/errors.js';
import { startMetricsServer } from '../src/http/metrics-server.js';
import { Registry } from '../src/registry.js';

/** One request to the loopback server; resolves with status, headers and body. */
function get(port: number, path: string, method = 'GET') {
  return new Promise<{ status: number; headers: Record<string, unknown>; body: string }>(
    (resolve, reject) => {
      const req = request({ host: '127.0.0.1', port, path, method, agent: false }, (res) => {
        let body = '';
        res.setEncoding('utf8');
        res.on('data', (chunk: string) => {
          body += chunk;
        });
        res.on('end', () => resolve({ status: res.statusCode ?? 0, headers: res.headers, body }));
      });
      req.on('error', reject);
      req.end();
    },
  );
}

function registryWithCounter(): Registry {
  const registry = new Registry();
  new Counter({ name: 'jobs_total', help: 'jobs', registers: [registry] }).inc(3);
  return registry;
}

describe('http/metrics-server', () => {
  it('serves the metrics at its path on a port of its own, 404 elsewhere, 405 for POST', async () => {
    const server = await startMetricsServer({
      port: 0,
      host: '127.0.0.1',
      registry: registryWithCounter(),
    });
    try {
      const { port } = server.address;
      assert.ok(port > 0);
      const metrics = await get(port, '/metrics?x=1');
      assert.equal(metrics.status, 200);
      assert.match(String(metrics.headers['content-type']), /^text\/plain; version=0\.0\.4/);
      assert.match(metrics.body, /^jobs_total 3$/m);
      assert.equal((await get(port, '/')).status, 404);
      assert.equal((await get(port, '/metricsx')).status, 404);
      const post = await get(port, '/metrics', 'POST');
      assert.equal(post.status, 405);
      assert.equal(post.headers.allow, 'GET, HEAD');
    } finally {
      await server.close();
    }
  });

  it('takes path and authorize, and stops listening on close', async () => {
    const server = await startMetricsServer({
      port: 0,
      host: '127.0.0.1',
      path: '/internal/prom',
      registry: registryWithCounter(),
      authorize: (req) => req.headers['x-token'] === 'secret',
    });
    const { port } = server.address;
    assert.equal((await get(port, '/metrics')).status, 404);
    assert.equal((await get(port, '/internal/prom')).status, 403);
    await server.close();
    await assert.rejects(get(port, '/internal/prom'), { code: 'ECONNREFUSED' });
  });

  it('rejects with ListenError when the port is taken, and bad options with InvalidOptionError', async () => {
    const first = await startMetricsServer({
      port: 0,
      host: '127.0.0.1',
      registry: new Registry(),
    });
    try {
      await assert.rejects(
        startMetricsServer({
          port: first.address.port,
          host: '127.0.0.1',
          registry: new Registry(),
        }),
        (e: unknown) =>
          e instanceof ListenError &&
          e.code === 'PROMFORK_LISTEN_FAILED' &&
          e.message.includes(`127.0.0.1:${first.address.port}`) &&
          (e.cause as { code?: string }).code === 'EADDRINUSE',
      );
    } finally {
      await first.close();
    }
    const invalid = (part: string) => (e: unknown) =>
      e instanceof InvalidOptionError &&
      e.code === 'PROMFORK_INVALID_OPTION' &&
      e.message.includes(part);
    await assert.rejects(startMetricsServer({ port: -1 }), invalid('"port" -1'));
    await assert.rejects(startMetricsServer({ port: 65536 }), invalid('"port" 65536'));
    await assert.rejects(startMetricsServer({ port: '80' as never }), invalid('"port" "80"'));
    await assert.rejects(startMetricsServer({ port: 0, path: 'metrics' }), invalid('"path"'));
    await assert.rejects(startMetricsServer({ port: 0, host: '' }), invalid('"host"'));
    await assert.rejects(
      startMetricsServer({ prot: 0 } as never),
      (e: unknown) => e instanceof InvalidOptionError && e.code === 'PROMFORK_UNKNOWN_OPTION',
    );
  });
});
