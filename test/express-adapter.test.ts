/** The adapter conformance suite, run against @promfork/express with Express 4 and 5. */

import { metricsHandler, metricsMiddleware } from '@promfork/express';
import type { NextFunction, Request, Response } from 'express';
import express5 from 'express';
import express4 from 'express4';
import { type AdapterDriver, runAdapterConformance, serve } from './adapter-conformance.js';

function driver(name: string, express: typeof express5): AdapterDriver<Request, Response> {
  return {
    name,
    headers: (req) => req.headers,
    start: async (options, hooks = {}) => {
      const app = express();
      app.set('env', 'test'); // keep finalhandler from logging the expected errors
      app.use((req: Request, res: Response, next: NextFunction) => {
        hooks.before?.(req.headers, res);
        next();
      });
      app.use(metricsMiddleware(options));
      const users = express.Router();
      const posts = express.Router();
      posts.get('/posts/:postId', (_req, res) => {
        res.send('post');
      });
      users.get('/', (_req, res) => {
        res.send('users');
      });
      users.use('/:userId', posts);
      users.get('/:userId', (_req, res) => {
        res.send('user');
      });
      users.get('/:userId/fail', () => {
        throw new Error('boom');
      });
      app.use('/users', users);
      app.get('/health', (_req, res) => {
        res.send('ok');
      });
      app.get('/items/:id', (_req, res) => {
        res.status(201).send('item');
      });
      app.post('/echo', (_req, res) => {
        res.send('echo');
      });
      app.get('/slow/:id', () => hooks.entered?.());
      // The error reaches an app-level handler, outside the router that matched.
      app.use((_err: unknown, _req: Request, res: Response, _next: NextFunction) => {
        res.status(500).send('error');
      });
      return serve(app);
    },
    startAdmin: async (options) => serve(express().get('/prom', metricsHandler(options))),
  };
}

runAdapterConformance(driver('Express 4', express4));
runAdapterConformance(driver('Express 5', express5));
