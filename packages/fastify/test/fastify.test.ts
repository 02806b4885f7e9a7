/**
 * What only Fastify does: `config.metrics`, and the user's own hooks in front of the metrics
 * route. The behaviour every adapter shares (route templates, unmatched and hostile paths,
 * the metrics route, options, sizes, aborts) is asserted by the adapter conformance suite in
 * the root test/ folder (`test/fastify-adapter.test.ts`).
 */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { Registry } from '@promfork/core';
import fastify5 from 'fastify';
import fastify4 from 'fastify4';
import promfork, { metricsHandler } from '../src/index.js';

for (const [name, factory] of [
  ['Fastify 4', fastify4],
  ['Fastify 5', fastify5],
] as const) {
  describe(`@promfork/fastify with ${name}`, () => {
    it('leaves routes with config.metrics=false or config.disableMetrics unrecorded (metricsHandler routes too) and labels config.statsId', async () => {
      const registry = new Registry();
      const app = factory();
      await app.register(promfork, { registry });
      app.get('/health', { config: { metrics: false } }, async () => 'ok');
      app.get('/prom', { config: { metrics: false } }, metricsHandler({ registry }));
      app.get('/items/:id', async () => 'item');
      // fastify-metrics' spelling, accepted so a migrating app keeps its route config.
      app.get('/legacy', { config: { disableMetrics: true } }, async () => 'ok');
      app.get('/orders/:id', { config: { statsId: 'orders' } }, async () => 'order');
      try {
        for (const url of ['/health', '/prom', '/items/1', '/legacy', '/orders/1']) {
          assert.equal((await app.inject({ method: 'GET', url })).statusCode, 200, url);
        }
        const res = await app.inject({ method: 'GET', url: '/prom' });
        assert.equal(res.statusCode, 200);
        const series = 'http_requests_total{method="GET",route="/items/:id",status_code="200"} 1';
        assert.ok(res.body.split('\n').includes(series), res.body);
        assert.doesNotMatch(res.body, /route="\/(health|prom|metrics|legacy|orders)/);
        // fastify-metrics' config.statsId names the route's series.
        const order = 'http_requests_total{method="GET",route="orders",status_code="200"} 1';
        assert.ok(res.body.split('\n').includes(order), res.body);
      } finally {
        await app.close();
      }
    });

    it('runs the user’s own hooks in front of the metrics route, then authorize', async () => {
      const app = factory();
      // The user's own auth hook applies to the metrics route like to any route.
      app.addHook('onRequest', async (request, reply) => {
        if (request.url.startsWith('/metrics') && request.headers.authorization !== 'Bearer ok') {
          await reply.code(401).send('no');
        }
      });
      await app.register(promfork, {
        registry: new Registry(),
        authorize: (request) => request.headers['x-role'] !== 'guest',
      });
      try {
        assert.equal((await app.inject({ method: 'GET', url: '/metrics' })).statusCode, 401);
        const auth = { authorization: 'Bearer ok' };
        const guest = await app.inject({
          method: 'GET',
          url: '/metrics',
          headers: { ...auth, 'x-role': 'guest' },
        });
        assert.equal(guest.statusCode, 403);
        const res = await app.inject({ method: 'GET', url: '/metrics', headers: auth });
        assert.equal(res.statusCode, 200);
        assert.match(res.body, /# TYPE http_requests_total counter/);
      } finally {
        await app.close();
      }
    });
  });
}
