/**
 * Aborted requests, the same scenario through every adapter and framework version: a client
 * sends a request, the handler never answers, the client closes the connection. The request
 * must be counted once, under its route template, with `status_code="aborted"`.
 */
import assert from 'node:assert/strict';
import { once } from 'node:events';
import { request as httpRequest, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { describe, it } from 'node:test';
import Router from '@koa/router';
import { Registry } from '@promfork/core';
import * as promforkExpress from '@promfork/express';
import promforkFastify from '@promfork/fastify';
import * as promforkKoa from '@promfork/koa';
import express5 from 'express';
import express4 from 'express4';
import fastify5 from 'fastify';
import fastify4 from 'fastify4';
import Koa3 from 'koa';
import Koa2 from 'koa2';

/** Starts a server whose GET /slow/:id calls `entered` and never answers. */
type Driver = (registry: Registry, entered: () => void) => Promise<Server>;

const never = () => new Promise<never>(() => {});

function expressDriver(express: typeof express5): Driver {
  return async (registry, entered) => {
    const app = express();
    app.use(promforkExpress.metricsMiddleware({ registry }));
    app.get('/slow/:id', () => entered());
    const server = app.listen(0, '127.0.0.1');
    await once(server, 'listening');
    return server;
  };
}

function koaDriver(Koa: typeof Koa3): Driver {
  return async (registry, entered) => {
    const app = new Koa();
    app.use(promforkKoa.metricsMiddleware({ registry }));
    const router = new Router();
    router.get('/slow/:id', async () => {
      entered();
      await never();
    });
    app.use(router.routes());
    const server = app.listen(0, '127.0.0.1');
    await once(server, 'listening');
    return server;
  };
}

function fastifyDriver(factory: typeof fastify5): Driver {
  return async (registry, entered) => {
    const app = factory();
    await app.register(promforkFastify, { registry });
    app.get('/slow/:id', async () => {
      entered();
      await never();
    });
    await app.listen({ port: 0, host: '127.0.0.1' });
    return app.server;
  };
}

const drivers: [string, Driver][] = [
  ['Express 4', expressDriver(express4)],
  ['Express 5', expressDriver(express5)],
  ['Koa 2', koaDriver(Koa2)],
  ['Koa 3', koaDriver(Koa3)],
  ['Fastify 4', fastifyDriver(fastify4)],
  ['Fastify 5', fastifyDriver(fastify5)],
];

const ABORTED = 'http_requests_total{method="GET",route="/slow/:id",status_code="aborted"} ';

describe('every adapter records a request the client aborted', () => {
  for (const [name, driver] of drivers) {
    it(`${name}: status_code="aborted" under the route template, once`, async () => {
      const registry = new Registry();
      let entered!: () => void;
      const inHandler = new Promise<void>((resolve) => {
        entered = resolve;
      });
      const server = await driver(registry, () => entered());
      try {
        const { port } = server.address() as AddressInfo;
        const req = httpRequest({ host: '127.0.0.1', port, path: '/slow/1' });
        req.on('error', () => {});
        req.end();
        await inHandler;
        req.destroy();
        // The server learns of the close asynchronously: poll the exposition briefly.
        let line: string | undefined;
        for (let i = 0; i < 200 && line === undefined; i++) {
          await new Promise((resolve) => setTimeout(resolve, 10));
          line = (await registry.scrape()).body.split('\n').find((l) => l.startsWith(ABORTED));
        }
        assert.equal(line, `${ABORTED}1`);
      } finally {
        server.closeAllConnections();
        server.close();
      }
    });
  }
});
