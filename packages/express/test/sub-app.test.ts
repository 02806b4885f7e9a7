/**
 * Exact route templates in apps with sub-apps (`app.use(path, otherApp)`). Express reaches a
 * sub-app through a closure, so its routers cannot be walked; finding one switches that Express
 * copy to the wrapper on its Layer class (layer-hook.ts). This file runs in a process of its
 * own (node --test), so the switch does not reach mount-walk.test.ts.
 */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { Registry } from '@promfork/core';
import express5 from 'express';
import express4 from 'express4';
import request from 'supertest';
import { metricsMiddleware } from '../src/index.js';

type Express = typeof express5;
type Res = { send(body: string): void; status(code: number): Res };

/** The `http_requests_total` samples of an exposition, as `route status` → count. */
function counts(text: string): Map<string, number> {
  const out = new Map<string, number>();
  for (const line of text.split('\n')) {
    const m = /^http_requests_total\{method="GET",route="(.*)",status_code="(\d+)"\} (\d+)$/.exec(
      line,
    );
    if (m) out.set(`${m[1]} ${m[2]}`, Number(m[3]));
  }
  return out;
}

/** A sub-app at a parameterised path, with a nested router of its own. */
function orgApp(express: Express) {
  const org = express();
  org.set('env', 'test');
  const members = express.Router();
  members.get('/members/:memberId', (_req, res) => {
    res.send('member');
  });
  members.get('/fail', (_req, _res, next) => {
    next(new Error('expected'));
  });
  org.use('/teams/:teamId', members);
  org.get('/info', (_req, res) => {
    res.send('info');
  });
  return org;
}

function buildApp(express: Express, withSubApp: boolean) {
  const app = express();
  app.set('env', 'test');
  app.use(metricsMiddleware({ registry: new Registry() }));
  const users = express.Router();
  users.get('/:userId/posts/:postId', (_req, res) => {
    res.send('post');
  });
  app.use('/users', users);
  if (withSubApp) app.use('/orgs/:orgId', orgApp(express));
  return app;
}

function handleErrors(app: ReturnType<Express>): void {
  app.use((err: Error, _req: unknown, res: Res, _next: unknown) => {
    res.status(500).send(err.message);
  });
}

for (const [name, express] of [
  ['Express 4', express4 as unknown as Express],
  ['Express 5', express5],
] as const) {
  describe(`route templates with sub-apps (${name})`, () => {
    it('labels routes inside a sub-app, its nested routers, errors and 404s exactly', async () => {
      const app = buildApp(express, true);
      handleErrors(app);
      const client = request(app);
      await client.get('/orgs/1/teams/2/members/3').expect(200, 'member');
      await client.get('/orgs/4/info').expect(200, 'info');
      await client.get('/orgs/4/teams/5/fail').expect(500, 'expected');
      await client.get('/orgs/4/teams/5/nothing').expect(404);
      await client.get('/users/1/posts/2').expect(200, 'post');
      const text = (await client.get('/metrics').expect(200)).text;
      assert.deepEqual(
        [...counts(text)].sort(),
        [
          ['#unmatched 404', 1],
          ['/orgs/:orgId/info 200', 1],
          ['/orgs/:orgId/teams/:teamId/fail 500', 1],
          ['/orgs/:orgId/teams/:teamId/members/:memberId 200', 1],
          ['/users/:userId/posts/:postId 200', 1],
        ].sort(),
        text,
      );
    });

    it('stays exact when a sub-app is mounted after the first request', async () => {
      const app = buildApp(express, false);
      const client = request(app);
      await client.get('/users/1/posts/2').expect(200);
      app.use('/orgs/:orgId', orgApp(express));
      await client.get('/orgs/1/teams/2/members/3').expect(200, 'member');
      await client.get('/users/3/posts/4').expect(200);
      const text = (await client.get('/metrics').expect(200)).text;
      assert.deepEqual(
        [...counts(text)].sort(),
        [
          ['/orgs/:orgId/teams/:teamId/members/:memberId 200', 1],
          ['/users/:userId/posts/:postId 200', 2],
        ].sort(),
        text,
      );
    });
  });
}
