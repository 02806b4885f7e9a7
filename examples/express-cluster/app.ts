/**
 * The Express app each worker serves. The routes are split over nested routers on purpose:
 * `app.use('/users', users)`, `users.use('/:userId', posts)`, `posts.get('/posts/:postId')`.
 * At the end of such a request `req.baseUrl` is `/users/7`, yet the metrics must say
 * `/users/:userId/posts/:postId`; @promfork/express reads the template, not the URL.
 */
import { metricsMiddleware } from '@promfork/express';
import express, { type Express, type Response } from 'express';
import { exampleMetricsOptions } from '../shared/metrics-options.js';
import {
  createPostReply,
  delayReply,
  failReply,
  indexReply,
  postReply,
  type Reply,
  SERVED_BY_HEADER,
  userReply,
} from '../shared/routes.js';

function send(res: Response, reply: Reply): void {
  res.status(reply.status).json(reply.body);
}

/** Builds the app: HTTP metrics for every route, plus GET /metrics merged over all workers. */
export function createApp(): Express {
  const app = express();
  app.use((_req, res, next) => {
    res.setHeader(SERVED_BY_HEADER, String(process.pid));
    next();
  });
  // First, so it times every request and serves GET /metrics. The options (in-flight gauge,
  // native histograms, naming preset: shared/metrics-options.ts) are shared by the three examples.
  app.use(metricsMiddleware(exampleMetricsOptions()));

  // #region routers (shown in examples/README.md)
  // mergeParams: the posts router reads :userId, which its parent matched.
  const posts = express.Router({ mergeParams: true });
  posts.get('/posts/:postId', (req, res) => {
    const params = req.params as Record<string, string>;
    send(res, postReply(params.userId ?? '', params.postId ?? ''));
  });
  posts.post('/posts', (req, res) => {
    const params = req.params as Record<string, string>;
    send(res, createPostReply(params.userId ?? ''));
  });

  const users = express.Router();
  users.get('/:userId', (req, res) => send(res, userReply(req.params.userId)));
  users.use('/:userId', posts);

  app.get('/', (_req, res) => send(res, indexReply()));
  app.get('/fail', (_req, res) => send(res, failReply()));
  app.get('/delay', (req, res, next) => {
    delayReply(req.query.ms).then((reply) => send(res, reply), next);
  });
  app.use('/users', users);
  // #endregion
  return app;
}
