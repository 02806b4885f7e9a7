/**
 * Crafted requests through every adapter, over raw loopback sockets so that the bytes reach the
 * server exactly as written (an HTTP client library would normalise or refuse most of them):
 * path traversal, `//%5Cfoo.bar:80@example.com`, broken percent-encoding, 10 KB and 20 KB
 * paths, absolute and asterisk request targets, odd and unknown methods, look-alikes of the
 * metrics path.
 *
 * One table of cases, run against Express, Koa and Fastify servers. For every adapter:
 * - nothing throws: no 5xx answer, nothing reported through onError, the instrumentation's
 *   error counter stays at 0, and the server still answers normally afterwards;
 * - no request adds a route value: `route` is only ever a declared template or `#unmatched`;
 * - the `method` label stays bounded (a method Node knows, or `#other`);
 * - no look-alike of the metrics path gets the metrics past `authorize`.
 *
 * The adapter conformance suite (adapter-conformance.ts) covers the common hostile paths
 * through supertest; this table adds the raw-socket cases and checks the three adapters with
 * the same expectations.
 */
import assert from 'node:assert/strict';
import { createServer, METHODS, type Server } from 'node:http';
import { type AddressInfo, connect } from 'node:net';
import { after, before, describe, it } from 'node:test';
import Router from '@koa/router';
import { Registry } from '@promfork/core';
import { metricsMiddleware as expressMetrics } from '@promfork/express';
import promfork from '@promfork/fastify';
import { metricsMiddleware as koaMetrics } from '@promfork/koa';
import express from 'express';
import Fastify from 'fastify';
import Koa from 'koa';
import { parseExposition } from './helpers/exposition.js';
import { request } from './helpers/http.js';

/** One crafted request: the method and request target exactly as sent on the wire. */
interface CraftedRequest {
  readonly method: string;
  readonly target: string;
  /** Why this case is here. */
  readonly what: string;
}

const LONG = 10 * 1024;

/** The shared table of crafted requests. */
export const CRAFTED_REQUESTS: readonly CraftedRequest[] = [
  { method: 'GET', target: '/../../etc/passwd', what: 'dot-dot traversal' },
  { method: 'GET', target: '/..%2f..%2fetc%2fpasswd', what: 'encoded traversal' },
  { method: 'GET', target: '/%2e%2e/%2e%2e/etc/passwd', what: 'encoded dots' },
  { method: 'GET', target: '//%5Cfoo.bar:80@example.com', what: 'open-redirect shape' },
  { method: 'GET', target: '/\\foo.bar', what: 'raw backslash' },
  { method: 'GET', target: '/%E0%A4%A', what: 'truncated UTF-8 escape' },
  { method: 'GET', target: '/%', what: 'lone percent' },
  { method: 'GET', target: '/%zz', what: 'non-hex escape' },
  { method: 'GET', target: '/%00', what: 'NUL escape' },
  { method: 'GET', target: '/%C0%AF', what: 'overlong UTF-8' },
  { method: 'GET', target: '/users/..%2f..%2fadmin', what: 'traversal inside a parameter' },
  { method: 'GET', target: '/users/%E0%A4%A', what: 'broken escape inside a parameter' },
  { method: 'GET', target: '/users/%', what: 'lone percent inside a parameter' },
  { method: 'GET', target: `/${'a'.repeat(LONG)}`, what: '10 KB path' },
  { method: 'GET', target: `/users/${'9'.repeat(LONG)}`, what: '10 KB parameter' },
  { method: 'GET', target: `/${'a/'.repeat(LONG / 2)}`, what: '5,000 segments' },
  { method: 'GET', target: `/${'a'.repeat(20 * 1024)}`, what: '20 KB path (over Node limits)' },
  { method: 'GET', target: '/users/1?x=%zz&y=%E0', what: 'broken query escapes' },
  { method: 'GET', target: 'http://evil.example/users/1', what: 'absolute-form target' },
  { method: 'GET', target: 'http://evil.example/metrics', what: 'absolute-form metrics' },
  { method: 'OPTIONS', target: '*', what: 'asterisk-form target' },
  { method: 'GET', target: '*', what: 'asterisk target on GET' },
  { method: 'GET', target: 'users/1', what: 'target without a leading slash' },
  { method: 'GET', target: '/metrics/', what: 'metrics path with a trailing slash' },
  { method: 'GET', target: '/METRICS', what: 'metrics path upper-cased' },
  { method: 'GET', target: '/metrics%2f', what: 'metrics path with an encoded slash' },
  { method: 'GET', target: '//metrics', what: 'metrics path with a double slash' },
  { method: 'GET', target: '/./metrics', what: 'metrics path through a dot segment' },
  { method: 'GET', target: '/users/../metrics', what: 'metrics path through a dot-dot' },
  { method: 'GET', target: '/metrics;x=1', what: 'metrics path with a matrix parameter' },
  { method: 'GET', target: '/%6detrics', what: 'metrics path with an encoded letter' },
  { method: 'PROPFIND', target: '/users/1', what: 'WebDAV method' },
  { method: 'TRACE', target: '/users/1', what: 'TRACE' },
  { method: 'PURGE', target: '/users/1', what: 'PURGE' },
  { method: 'M-SEARCH', target: '*', what: 'SSDP method' },
  { method: 'CONNECT', target: 'example.com:443', what: 'CONNECT' },
  { method: 'DELETE', target: '/metrics', what: 'DELETE on the metrics path' },
  { method: 'FOO', target: '/users/1', what: 'method Node does not know' },
  { method: 'get', target: '/users/1', what: 'lower-case method' },
];

/** What came back for one crafted request: a status, or none (connection closed). */
interface RawResponse {
  readonly status: number | undefined;
  readonly body: string;
}

/** Sends `method target HTTP/1.1` on a fresh loopback connection and reads until close. */
function sendRaw(port: number, method: string, target: string): Promise<RawResponse> {
  return new Promise((resolve, reject) => {
    const socket = connect({ host: '127.0.0.1', port });
    const chunks: Buffer[] = [];
    const timer = setTimeout(() => {
      socket.destroy();
      reject(new Error(`${method} ${target.slice(0, 60)}: no end of response within 5 s`));
    }, 5000);
    socket.on('data', (chunk: Buffer) => chunks.push(chunk));
    socket.on('error', () => {
      // A reset after the answer (or instead of one) is a legitimate way to refuse.
    });
    socket.on('close', () => {
      clearTimeout(timer);
      const text = Buffer.concat(chunks).toString('latin1');
      const status = /^HTTP\/1\.[01] (\d{3})/.exec(text)?.[1];
      const bodyStart = text.indexOf('\r\n\r\n');
      resolve({
        status: status === undefined ? undefined : Number(status),
        body: bodyStart < 0 ? '' : text.slice(bodyStart + 4),
      });
    });
    socket.write(`${method} ${target} HTTP/1.1\r\nHost: 127.0.0.1\r\nConnection: close\r\n\r\n`);
  });
}

const AUTH = 'Bearer let-me-in';
const ROUTE = '/users/:id';

/** A server under test: one adapter, one parameterised route, metrics behind authorize. */
interface Target {
  readonly name: string;
  readonly port: number;
  readonly errors: Error[];
  close(): Promise<void>;
}

function listening(server: Server): Promise<number> {
  return new Promise((resolve, reject) => {
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => resolve((server.address() as AddressInfo).port));
  });
}

async function expressTarget(): Promise<Target> {
  const errors: Error[] = [];
  const app = express();
  app.set('env', 'test'); // keep finalhandler from logging the expected 400s
  app.use(
    expressMetrics({
      registry: new Registry(),
      onError: (e) => errors.push(e),
      authorize: (req) => req.headers.authorization === AUTH,
    }),
  );
  app.get(ROUTE, (_req, res) => {
    res.send('user');
  });
  const server = createServer(app);
  const port = await listening(server);
  return {
    name: 'express',
    port,
    errors,
    close: () => new Promise((resolve) => server.close(() => resolve())),
  };
}

async function koaTarget(): Promise<Target> {
  const errors: Error[] = [];
  const app = new Koa();
  app.silent = true;
  app.use(
    koaMetrics({
      registry: new Registry(),
      onError: (e) => errors.push(e),
      authorize: (ctx) => ctx.get('authorization') === AUTH,
    }),
  );
  const router = new Router();
  router.get(ROUTE, (ctx) => {
    ctx.body = 'user';
  });
  app.use(router.routes());
  const server = createServer(app.callback());
  const port = await listening(server);
  return {
    name: 'koa',
    port,
    errors,
    close: () => new Promise((resolve) => server.close(() => resolve())),
  };
}

async function fastifyTarget(): Promise<Target> {
  const errors: Error[] = [];
  const app = Fastify();
  await app.register(promfork, {
    registry: new Registry(),
    onError: (e) => errors.push(e),
    authorize: (request) => request.headers.authorization === AUTH,
  });
  app.get(ROUTE, async () => 'user');
  await app.listen({ host: '127.0.0.1', port: 0 });
  const { port } = app.server.address() as AddressInfo;
  return { name: 'fastify', port, errors, close: () => app.close() };
}

const KNOWN_METHODS = new Set([...METHODS, '#other']);

for (const start of [expressTarget, koaTarget, fastifyTarget]) {
  describe(`crafted requests through ${start.name.replace('Target', '')}`, () => {
    let target: Target;
    before(async () => {
      target = await start();
    });
    after(() => target.close());

    it('never throws, never adds a route value, never leaks the metrics', async () => {
      const problems: string[] = [];
      for (const crafted of CRAFTED_REQUESTS) {
        const res = await sendRaw(target.port, crafted.method, crafted.target);
        const where = `${crafted.what} (${crafted.method} ${crafted.target.slice(0, 40)})`;
        if (res.status !== undefined && res.status >= 500) {
          problems.push(`${where}: answered ${res.status}`);
        }
        if (res.body.includes('# TYPE')) problems.push(`${where}: served the metrics`);
      }
      assert.deepEqual(problems, []);

      // Still serving normally.
      const base = `http://127.0.0.1:${target.port}`;
      assert.equal((await request(`${base}/users/1`)).status, 200);
      assert.equal((await request(`${base}/metrics`)).status, 403);
      const scrape = await request(`${base}/metrics`, { headers: { authorization: AUTH } });
      assert.equal(scrape.status, 200);
      const samples = parseExposition(scrape.body);
      const requests = samples.filter((s) => s.name === 'http_requests_total');
      assert.ok(requests.length > 0, 'http_requests_total has samples');
      const routes = new Set(requests.map((s) => s.labels.route));
      const methods = new Set(requests.map((s) => s.labels.method));
      for (const route of routes) {
        assert.ok(route === ROUTE || route === '#unmatched', `route value ${route} was added`);
      }
      for (const method of methods) {
        assert.ok(KNOWN_METHODS.has(method ?? ''), `method value ${method} is unbounded`);
      }
      assert.ok(routes.has(ROUTE), 'the legitimate request is counted under its template');
      assert.deepEqual(
        target.errors.map((e) => e.message),
        [],
      );
      const instrumentationErrors = samples.find(
        (s) => s.name === 'promfork_instrumentation_errors_total',
      );
      assert.equal(instrumentationErrors?.value ?? 0, 0);
    });
  });
}
