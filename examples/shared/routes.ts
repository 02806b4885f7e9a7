/**
 * What the example apps answer, kept out of the framework code so the Express, Koa and Fastify
 * examples serve exactly the same thing and differ only in how they route.
 *
 * Routes (the templates the metrics are labelled with):
 *   GET  /                              index
 *   GET  /users/:userId                 200 for a numeric id, else 404 (a matched route)
 *   GET  /users/:userId/posts/:postId   nested two routers deep
 *   POST /users/:userId/posts           201
 *   GET  /fail                          500 always (so dashboards have an error ratio to show)
 *   GET  /delay?ms=N                    200 after N milliseconds (known latencies for tests)
 *   GET  /metrics                       the merged metrics of every worker (the adapter's)
 * Anything else is the framework's 404, counted under the adapters' fixed "unmatched" route.
 */

/** Status and JSON body of a response. */
export interface Reply {
  readonly status: number;
  readonly body: Readonly<Record<string, unknown>>;
}

/**
 * Header naming the worker process that answered. Shows the load balancing at work
 * (`curl -i`), and lets the e2e tests check that traffic reached every worker.
 */
export const SERVED_BY_HEADER = 'x-served-by';

/** GET / */
export function indexReply(): Reply {
  return {
    status: 200,
    body: {
      message: 'promfork example: every worker counts its own requests; /metrics merges them all',
      try: ['/users/7', '/users/7/posts/42', '/metrics'],
    },
  };
}

const NUMERIC_ID = /^[0-9]{1,9}$/;

/** GET /users/:userId */
export function userReply(userId: string): Reply {
  if (!NUMERIC_ID.test(userId)) return { status: 404, body: { error: 'no such user' } };
  return { status: 200, body: { id: Number(userId), name: `user ${userId}` } };
}

/** GET /users/:userId/posts/:postId */
export function postReply(userId: string, postId: string): Reply {
  if (!NUMERIC_ID.test(userId) || !NUMERIC_ID.test(postId)) {
    return { status: 404, body: { error: 'no such post' } };
  }
  return {
    status: 200,
    body: { userId: Number(userId), id: Number(postId), title: `post ${postId}` },
  };
}

/** POST /users/:userId/posts (the body is not read: the examples are about the metrics). */
export function createPostReply(userId: string): Reply {
  if (!NUMERIC_ID.test(userId)) return { status: 404, body: { error: 'no such user' } };
  return { status: 201, body: { userId: Number(userId), created: true } };
}

/**
 * GET /fail: always 500, answered by the handler itself (no thrown error, so no stack trace in
 * the log). It gives the error-ratio panel of examples/grafana something to show.
 */
export function failReply(): Reply {
  return { status: 500, body: { error: 'this route always fails' } };
}

/** Longest wait `GET /delay` accepts, in milliseconds. */
export const MAX_DELAY_MS = 10_000;

const DELAY_MS = /^[0-9]{1,5}$/;

/**
 * GET /delay?ms=N: 200 after at least N milliseconds (0 to {@link MAX_DELAY_MS}), 400 for a
 * missing or bad N. It gives the latency histograms known values: the end-to-end tests
 * compare Prometheus' quantiles with the latencies they asked for.
 *
 * "At least" is a contract the tests rely on: a timer may fire up to a millisecond early
 * (Node measures it from the event loop's cached time), so the wait is re-armed until the
 * monotonic clock says N ms have passed. The adapters start timing before the handler runs,
 * so every recorded duration is >= N ms.
 */
export async function delayReply(rawMs: unknown): Promise<Reply> {
  const ms = typeof rawMs === 'string' && DELAY_MS.test(rawMs) ? Number(rawMs) : Number.NaN;
  if (!(ms <= MAX_DELAY_MS)) {
    return {
      status: 400,
      body: {
        error: `ms must be an integer from 0 to ${MAX_DELAY_MS}, got ${JSON.stringify(rawMs)}`,
      },
    };
  }
  const start = performance.now();
  for (let left = ms; left > 0; left = ms - (performance.now() - start)) {
    await new Promise((resolve) => setTimeout(resolve, Math.ceil(left)));
  }
  return { status: 200, body: { waitedMs: ms } };
}
