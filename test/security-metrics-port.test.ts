/**
 * The setup docs/security.md recommends: the public server records requests but serves no
 * metrics (`metricsPath: false`), and `metricsHandler()` serves them on a second server bound
 * to loopback. Checked for Express and Fastify with the code the page shows.
 */
import assert from 'node:assert/strict';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { describe, it } from 'node:test';
import { Registry } from '@promfork/core';
import { metricsHandler, metricsMiddleware } from '@promfork/express';
import promfork, { metricsHandler as fastifyMetricsHandler } from '@promfork/fastify';
import express from 'express';
import Fastify from 'fastify';
import { parseExposition, sumBy } from './helpers/exposition.js';
import { request } from './helpers/http.js';

function listen(server: Server, host: string): Promise<string> {
  return new Promise((resolve) => {
    server.listen(0, host, () => {
      resolve(`http://${host}:${(server.address() as AddressInfo).port}`);
    });
  });
}

function close(server: Server): Promise<void> {
  return new Promise((resolve) => server.close(() => resolve()));
}

async function checkSplit(publicUrl: string, adminUrl: string): Promise<void> {
  assert.equal((await request(`${publicUrl}/users/1`)).status, 200);
  const hidden = await request(`${publicUrl}/metrics`);
  assert.equal(hidden.status, 404, 'the public port serves no metrics');
  assert.doesNotMatch(hidden.body, /# TYPE/);
  const scrape = await request(`${adminUrl}/metrics`);
  assert.equal(scrape.status, 200);
  const counts = sumBy(parseExposition(scrape.body), 'http_requests_total', [
    'route',
    'status_code',
  ]);
  assert.equal(counts.get('/users/:id 200'), 1);
  assert.equal(counts.get('#unmatched 404'), 1, 'the probe of /metrics on the public port');
}

describe('metrics on a separate loopback port', () => {
  it('Express: metricsPath false on the app, metricsHandler on an admin server', async () => {
    const registry = new Registry();
    const app = express();
    app.use(metricsMiddleware({ registry, metricsPath: false }));
    app.get('/users/:id', (_req, res) => {
      res.send('user');
    });
    const admin = express();
    admin.get('/metrics', metricsHandler({ registry }));
    const publicServer = createServer(app);
    const adminServer = createServer(admin);
    try {
      await checkSplit(
        await listen(publicServer, '127.0.0.1'),
        await listen(adminServer, '127.0.0.1'),
      );
    } finally {
      await Promise.all([close(publicServer), close(adminServer)]);
    }
  });

  it('Fastify: metricsPath false on the app, metricsHandler on an admin instance', async () => {
    const registry = new Registry();
    const app = Fastify();
    await app.register(promfork, { registry, metricsPath: false });
    app.get('/users/:id', async () => 'user');
    const admin = Fastify();
    admin.get('/metrics', fastifyMetricsHandler({ registry }));
    try {
      await app.listen({ host: '127.0.0.1', port: 0 });
      await admin.listen({ host: '127.0.0.1', port: 0 });
      const url = (f: typeof app) => `http://127.0.0.1:${(f.server.address() as AddressInfo).port}`;
      await checkSplit(url(app), url(admin));
    } finally {
      await Promise.all([app.close(), admin.close()]);
    }
  });
});
