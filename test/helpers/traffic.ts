/**
 * The traffic the e2e tests send to an example cluster, and what each request must be counted
 * as. All three examples serve the same routes (examples/shared/routes.ts), so one plan fits
 * every framework.
 */
import { request, runLimited } from './http.js';

/** One request to send and the labels its response must be counted under. */
export interface PlannedRequest {
  readonly method: 'GET' | 'POST';
  readonly path: string;
  /** The route template, or `unmatchedRoute` for a path no route matches. */
  readonly route: string;
  readonly status: number;
}

/** A response as the client saw it. */
export interface SentRequest extends PlannedRequest {
  /** The worker that answered, from the `x-served-by` header every example sets. */
  readonly pid: number;
}

/**
 * `count` requests cycling through every route of the examples: the index page, both nested
 * levels, a POST, a matched route answering 404, and paths no route matches. Ids differ per
 * request, so a label built from the raw URL would show up as extra series.
 */
export function planRequests(count: number, unmatchedRoute: string, offset = 0): PlannedRequest[] {
  const plan: PlannedRequest[] = [];
  for (let n = offset; n < offset + count; n++) {
    switch (n % 6) {
      case 0:
        plan.push({ method: 'GET', path: '/', route: '/', status: 200 });
        break;
      case 1:
        plan.push({ method: 'GET', path: `/users/${n}`, route: '/users/:userId', status: 200 });
        break;
      case 2:
        plan.push({
          method: 'GET',
          path: `/users/${n}/posts/${n * 7}`,
          route: '/users/:userId/posts/:postId',
          status: 200,
        });
        break;
      case 3:
        plan.push({
          method: 'POST',
          path: `/users/${n}/posts`,
          route: '/users/:userId/posts',
          status: 201,
        });
        break;
      case 4:
        plan.push({
          method: 'GET',
          path: `/users/nobody-${n}`,
          route: '/users/:userId',
          status: 404,
        });
        break;
      default:
        plan.push({
          method: 'GET',
          path: `/no/such/page-${n}`,
          route: unmatchedRoute,
          status: 404,
        });
    }
  }
  return plan;
}

/** Route template of the examples' `GET /fail`, which always answers 500. */
export const FAIL_ROUTE = '/fail';

/**
 * `count` requests to the examples' `GET /fail` (500 every time): the server errors a
 * dashboard's error ratio needs. Kept out of {@link planRequests}, whose traffic the other e2e
 * tests expect to succeed or be a client error.
 */
export function planFailures(count: number): PlannedRequest[] {
  return Array.from({ length: count }, () => ({
    method: 'GET' as const,
    path: FAIL_ROUTE,
    route: FAIL_ROUTE,
    status: 500,
  }));
}

/**
 * Sends the plan, `concurrency` requests at a time, each on its own connection so node:cluster
 * spreads them over the workers; checks each status and returns who answered.
 */
export async function sendPlan(
  baseUrl: string,
  plan: readonly PlannedRequest[],
  concurrency = 8,
): Promise<SentRequest[]> {
  return runLimited(
    plan.map((planned) => async () => {
      const res = await request(baseUrl + planned.path, {
        method: planned.method,
        ...(planned.method === 'POST'
          ? { body: '{"title":"hello"}', headers: { 'content-type': 'application/json' } }
          : {}),
      });
      if (res.status !== planned.status) {
        throw new Error(
          `${planned.method} ${planned.path}: expected status ${planned.status}, got ${res.status}: ${res.body.slice(0, 200)}`,
        );
      }
      const pid = Number(res.headers['x-served-by']);
      if (!Number.isInteger(pid) || pid <= 0) {
        throw new Error(`${planned.method} ${planned.path}: no x-served-by header`);
      }
      return { ...planned, pid };
    }),
    concurrency,
  );
}

/** Expected `http_requests_total` by "method route status_code", as `sumBy` keys them. */
export function expectedCounts(sent: readonly PlannedRequest[]): Map<string, number> {
  const counts = new Map<string, number>();
  for (const r of sent) {
    const key = `${r.method} ${r.route} ${r.status}`;
    counts.set(key, (counts.get(key) ?? 0) + 1);
  }
  return counts;
}

/** A Map as a sorted plain object, so assert.deepEqual failures print readably. */
export function sortedObject(map: ReadonlyMap<string, number>): Record<string, number> {
  return Object.fromEntries([...map.entries()].sort(([a], [b]) => a.localeCompare(b)));
}
