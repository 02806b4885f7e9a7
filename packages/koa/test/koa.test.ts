/**
 * What only Koa does: a route template exists only where @koa/router matched the request.
 * The behaviour every adapter shares (route templates, unmatched and hostile paths, the
 * metrics route, options, sizes, aborts) is asserted by the adapter conformance suite in the
 * root test/ folder (`test/koa-adapter.test.ts`).
 */
import assert from 'node:assert/strict';
import type { RequestListener } from 'node:http';
import { describe, it } from 'node:test';
import { Registry } from '@promfork/core';
import Koa3 from 'koa';
import Koa2 from 'koa2';
import request from 'supertest';
import { metricsMiddleware } from '../src/index.js';

for (const [name, Koa] of [
  ['Koa 2', Koa2],
  ['Koa 3', Koa3],
] as const) {
  describe(`@promfork/koa with ${name}`, () => {
    it('counts a request answered by plain middleware, without a router, as #unmatched', async () => {
      const app = new Koa();
      app.use(metricsMiddleware({ registry: new Registry() }));
      app.use((ctx) => {
        ctx.status = ctx.path === '/made' ? 201 : 200;
        ctx.body = 'plain';
      });
      const client = request(app.callback() as RequestListener);
      await client.get('/made').expect(201, 'plain');
      await client.get('/other/1').expect(200, 'plain');
      const text = (await client.get('/metrics').expect(200)).text;
      const series = (status: string) =>
        `http_requests_total{method="GET",route="#unmatched",status_code="${status}"} 1`;
      assert.ok(text.split('\n').includes(series('201')), text);
      assert.ok(text.split('\n').includes(series('200')), text);
      assert.doesNotMatch(text, /route="\/(made|other)/);
    });
  });
}
