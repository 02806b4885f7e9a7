/**
 * The Pushgateway client against local servers that record what they receive or misbehave on
 * purpose (a 500, a redirect, a socket that never answers, a closed port). The real gateway is
 * exercised by test/pushgateway.test.ts.
 */
import assert from 'node:assert/strict';
import { once } from 'node:events';
import { createServer as createHttpServer, type IncomingHttpHeaders, type Server } from 'node:http';
import { createServer as createNetServer, type Socket } from 'node:net';
import { after, describe, it } from 'node:test';
import { gunzipSync } from 'node:zlib';
import {
  Counter,
  OPENMETRICS_CONTENT_TYPE,
  PromforkError,
  Pushgateway,
  PushgatewayError,
  Registry,
  register,
} from '../src/index.js';
import { codeOf } from './helpers/error-code.js';

interface Received {
  method: string;
  url: string;
  headers: IncomingHttpHeaders;
  body: Buffer;
}

const servers: Array<{ close(): unknown }> = [];
const sockets: Socket[] = [];
after(() => {
  for (const socket of sockets) socket.destroy();
  for (const server of servers) server.close();
});

/** A loopback HTTP server answering `status` and `body`, recording every request. */
async function recorder(status = 200, body = ''): Promise<{ url: string; received: Received[] }> {
  const received: Received[] = [];
  const server: Server = createHttpServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (chunk: Buffer) => chunks.push(chunk));
    req.on('end', () => {
      received.push({
        method: req.method ?? '',
        url: req.url ?? '',
        headers: req.headers,
        body: Buffer.concat(chunks),
      });
      res.writeHead(status, status >= 300 && status < 400 ? { location: '/elsewhere' } : {});
      res.end(body);
    });
  });
  servers.push(server);
  server.listen(0, '127.0.0.1');
  await once(server, 'listening');
  const address = server.address() as { port: number };
  return { url: `http://127.0.0.1:${address.port}`, received };
}

function registryWithCounter(options?: ConstructorParameters<typeof Registry>[0]): Registry {
  const registry = new Registry(options);
  new Counter({ name: 'job_items_total', help: 'Items', registers: [registry] }).inc(3);
  return registry;
}

describe('Pushgateway requests', () => {
  it('push is a PUT of the registry in text format 0.0.4 and resolves with { resp, body }', async () => {
    const { url, received } = await recorder(200, 'fine');
    const registry = registryWithCounter();
    const { resp, body } = await new Pushgateway(url, {}, registry).push({
      jobName: 'batch',
      groupings: { instance: 'a' },
    });
    assert.equal(resp.statusCode, 200);
    assert.equal(body, 'fine');
    assert.equal(received.length, 1);
    const [request] = received;
    assert.equal(request!.method, 'PUT');
    assert.equal(request!.url, '/metrics/job/batch/instance/a');
    assert.equal(request!.headers['content-type'], 'text/plain; version=0.0.4; charset=utf-8');
    assert.equal(request!.body.toString('utf8'), await registry.metrics());
  });

  it('pushAdd is a POST and delete a DELETE without a body', async () => {
    const { url, received } = await recorder(202);
    const gateway = new Pushgateway(url, {}, registryWithCounter());
    await gateway.pushAdd({ jobName: 'batch' });
    await gateway.delete({ jobName: 'batch' });
    assert.deepEqual(
      received.map((r) => [r.method, r.url, r.body.length > 0, r.headers['content-type']]),
      [
        ['POST', '/metrics/job/batch', true, 'text/plain; version=0.0.4; charset=utf-8'],
        ['DELETE', '/metrics/job/batch', false, undefined],
      ],
    );
  });

  it('pushes text format even from an OpenMetrics registry (the gateway parses text only)', async () => {
    const { url, received } = await recorder();
    const registry = registryWithCounter({ contentType: OPENMETRICS_CONTENT_TYPE });
    await new Pushgateway(url, {}, registry).push({ jobName: 'batch' });
    const text = received[0]!.body.toString('utf8');
    assert.match(text, /^job_items_total 3$/m);
    assert.doesNotMatch(text, /# EOF/);
  });

  it('sends the configured headers, gzips with Content-Encoding: gzip, keeps a path prefix', async () => {
    const { url, received } = await recorder();
    const registry = registryWithCounter();
    const gateway = new Pushgateway(
      `${url}/gateway/`,
      { headers: { Authorization: 'Bearer t0ken', 'Content-Encoding': 'gzip' } },
      registry,
    );
    await gateway.push({ jobName: 'batch' });
    await gateway.delete({ jobName: 'batch' });
    const [push, del] = received;
    assert.equal(push!.url, '/gateway/metrics/job/batch');
    assert.equal(push!.headers.authorization, 'Bearer t0ken');
    assert.equal(push!.headers['content-encoding'], 'gzip');
    assert.equal(gunzipSync(push!.body).toString('utf8'), await registry.metrics());
    assert.equal(del!.headers.authorization, 'Bearer t0ken');
    assert.equal(del!.headers['content-encoding'], undefined);
  });

  it('sends the credentials of the URL as basic auth but never shows them in errors', async () => {
    const { url, received } = await recorder(401, 'who are you');
    const withUser = url.replace('http://', 'http://robot:s3cret@');
    const pushing = new Pushgateway(withUser, {}, new Registry()).push({ jobName: 'batch' });
    await assert.rejects(pushing, (error: PushgatewayError) => {
      assert.equal(error.code, 'PROMFORK_PUSHGATEWAY_STATUS');
      assert.ok(!error.message.includes('s3cret'), error.message);
      assert.ok(!error.url.includes('s3cret'), error.url);
      return true;
    });
    const expected = `Basic ${Buffer.from('robot:s3cret').toString('base64')}`;
    assert.equal(received[0]!.headers.authorization, expected);
  });

  it('takes null for options and registry, as prom-client code passes them', async () => {
    const { url, received } = await recorder();
    // `null` registry: the default one.
    new Counter({ name: 'pushgateway_default_total', help: 'In register' }).inc(2);
    await new Pushgateway(url, null, null).push({ jobName: 'batch' });
    assert.match(received[0]!.body.toString('utf8'), /^pushgateway_default_total 2$/m);
    register.removeSingleMetric('pushgateway_default_total');
  });

  it('with requireJobName: false, pushes to /metrics', async () => {
    const { url, received } = await recorder();
    await new Pushgateway(url, { requireJobName: false }, new Registry()).pushAdd();
    assert.equal(received[0]!.url, '/metrics');
  });
});

describe('Pushgateway failures', () => {
  it('an answer outside 2xx rejects with PROMFORK_PUSHGATEWAY_STATUS naming the URL and status', async () => {
    for (const status of [500, 301]) {
      const { url } = await recorder(status, 'storage full');
      const gateway = new Pushgateway(url, {}, new Registry());
      await assert.rejects(gateway.push({ jobName: 'batch' }), (error: unknown) => {
        assert.ok(error instanceof PushgatewayError);
        assert.ok(error instanceof PromforkError);
        assert.equal(error.code, 'PROMFORK_PUSHGATEWAY_STATUS');
        assert.equal(error.statusCode, status);
        assert.equal(error.method, 'PUT');
        assert.equal(error.url, `${url}/metrics/job/batch`);
        assert.ok(error.message.includes(`${url}/metrics/job/batch`), error.message);
        assert.ok(error.message.includes(`HTTP ${status}`), error.message);
        return true;
      });
    }
  });

  it('a gateway that accepts the connection and never answers rejects with PROMFORK_PUSHGATEWAY_TIMEOUT', async () => {
    const silent = createNetServer((socket) => {
      // Accept, read, say nothing.
      sockets.push(socket);
      socket.resume();
    });
    servers.push(silent);
    silent.listen(0, '127.0.0.1');
    await once(silent, 'listening');
    const url = `http://127.0.0.1:${(silent.address() as { port: number }).port}`;
    const gateway = new Pushgateway(url, { timeout: 300 }, registryWithCounter());
    await assert.rejects(gateway.pushAdd({ jobName: 'batch' }), (error: unknown) => {
      assert.ok(error instanceof PushgatewayError);
      assert.equal(error.code, 'PROMFORK_PUSHGATEWAY_TIMEOUT');
      assert.equal(error.method, 'POST');
      assert.equal(error.statusCode, undefined);
      assert.ok(error.message.includes(`${url}/metrics/job/batch`), error.message);
      assert.ok(error.message.includes('300 ms'), error.message);
      return true;
    });
  });

  it('a closed port rejects with PROMFORK_PUSHGATEWAY_UNREACHABLE carrying the cause', async () => {
    const { url } = await recorder();
    const closing = servers.pop() as Server;
    await new Promise((resolve) => closing.close(resolve));
    const gateway = new Pushgateway(url, {}, new Registry());
    await assert.rejects(gateway.delete({ jobName: 'batch' }), (error: unknown) => {
      assert.ok(error instanceof PushgatewayError);
      assert.equal(error.code, 'PROMFORK_PUSHGATEWAY_UNREACHABLE');
      assert.equal((error.cause as { code?: string }).code, 'ECONNREFUSED');
      assert.ok(error.message.includes(`${url}/metrics/job/batch`), error.message);
      return true;
    });
  });
});

describe('Pushgateway arguments', () => {
  const url = 'http://127.0.0.1:9';

  it('rejects unknown and invalid options with typed errors', () => {
    const cases: Array<[unknown, unknown, string]> = [
      [url, { timeOut: 5 }, 'PROMFORK_UNKNOWN_OPTION'],
      [url, { host: 'x' }, 'PROMFORK_UNKNOWN_OPTION'],
      [url, 'fast', 'PROMFORK_INVALID_OPTION'],
      [url, { timeout: -1 }, 'PROMFORK_INVALID_OPTION'],
      [url, { timeout: '5000' }, 'PROMFORK_INVALID_OPTION'],
      [url, { timeout: Number.POSITIVE_INFINITY }, 'PROMFORK_INVALID_OPTION'],
      [url, { headers: ['a'] }, 'PROMFORK_INVALID_OPTION'],
      [url, { headers: { 'x-a': {} } }, 'PROMFORK_INVALID_OPTION'],
      [url, { headers: { 'Content-Encoding': 'br' } }, 'PROMFORK_INVALID_OPTION'],
      [url, { agent: {} }, 'PROMFORK_INVALID_OPTION'],
      [url, { requireJobName: 'no' }, 'PROMFORK_INVALID_OPTION'],
      ['127.0.0.1:9091', {}, 'PROMFORK_INVALID_OPTION'],
      ['ftp://127.0.0.1:9091', {}, 'PROMFORK_INVALID_OPTION'],
      [`${url}/?x=1`, {}, 'PROMFORK_INVALID_OPTION'],
      [9091, {}, 'PROMFORK_INVALID_OPTION'],
    ];
    for (const [gatewayUrl, options, code] of cases) {
      const make = () => new Pushgateway(gatewayUrl as string, options as object);
      assert.equal(codeOf(make), code, `${String(gatewayUrl)} ${JSON.stringify(options)}`);
    }
  });

  it('throws synchronously, as prom-client does, for a missing job name or bad parameters', () => {
    const gateway = new Pushgateway(url, {}, new Registry());
    assert.equal(
      codeOf(() => gateway.push()),
      'PROMFORK_MISSING_OPTION',
    );
    assert.equal(
      codeOf(() => gateway.pushAdd({ jobName: '' })),
      'PROMFORK_MISSING_OPTION',
    );
    assert.equal(
      codeOf(() => gateway.delete({})),
      'PROMFORK_MISSING_OPTION',
    );
    const params = [{ jobName: 'a', grouping: {} }, { jobName: 7 }, 'batch'] as unknown as object[];
    assert.deepEqual(
      params.map((p) => codeOf(() => gateway.push(p))),
      ['PROMFORK_UNKNOWN_OPTION', 'PROMFORK_INVALID_OPTION', 'PROMFORK_INVALID_OPTION'],
    );
    assert.equal(
      codeOf(() => gateway.push({ jobName: 'a', groupings: { job: 'b' } })),
      'PROMFORK_RESERVED_LABEL',
    );
  });

  it('urlFor shows where a request goes', () => {
    const gateway = new Pushgateway('https://u:p@gw.example:9091/base', {}, new Registry());
    assert.equal(
      gateway.urlFor({ jobName: 'batch', groupings: { instance: 'x/y' } }).href,
      'https://u:p@gw.example:9091/base/metrics/job/batch/instance@base64/eC95',
    );
  });
});
