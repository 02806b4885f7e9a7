/**
 * Label values of the HTTP metrics that do not come from the user: the fixed value of requests
 * that matched no route, method normalisation, status codes and status grouping, and the one
 * rule for joining a mount prefix with a route template.
 *
 * Every function here is total: it accepts any input an adapter might hand it (a method a
 * client made up, a status code of 0, a prefix with a trailing slash) and returns a value from
 * a bounded set, so a scanner cannot grow the number of series.
 */
import { METHODS } from 'node:http';

/**
 * The `route` label of a request that matched no route (404s, scanners, static files served by
 * middleware). One fixed value, so unknown paths cannot explode cardinality. The leading `#`
 * cannot start a route template, so it never collides with a real route.
 */
export const UNMATCHED_ROUTE = '#unmatched';

/**
 * The `method` label of a request whose method is not one Node's HTTP parser knows
 * (`http.METHODS`), compared case-insensitively. Keeps made-up methods from adding series.
 */
export const OTHER_METHOD = '#other';

/**
 * The `status_code` label of a request whose client went away before the response was
 * complete (connection closed, request aborted). Not a number, so dashboards that sum `5..`
 * never mistake it for a server error.
 */
export const ABORTED_STATUS = 'aborted';

/**
 * The `status_code` label of a response whose status is not an integer in 100..999 (only
 * reachable through hand-built request objects; Node refuses to send such a status).
 */
export const INVALID_STATUS = '#invalid';

const KNOWN_METHODS: ReadonlyMap<string, string> = new Map(METHODS.map((m) => [m, m]));

/**
 * Maps a request method to its label: the upper-case method when Node knows it (`get` and
 * `GET` both give `GET`), {@link OTHER_METHOD} for anything else, including non-strings.
 */
export function normalizeMethod(method: unknown): string {
  if (typeof method !== 'string') return OTHER_METHOD;
  const known = KNOWN_METHODS.get(method);
  if (known !== undefined) return known;
  // Only short strings can be a method; do not upper-case a 10 KB string on every request.
  if (method.length > 16) return OTHER_METHOD;
  return KNOWN_METHODS.get(method.toUpperCase()) ?? OTHER_METHOD;
}

// Status strings are built once: `String(200)` per request would allocate.
const STATUS_TEXT: string[] = [];
const STATUS_CLASS: string[] = [];
for (let code = 100; code <= 999; code++) {
  STATUS_TEXT[code] = String(code);
  STATUS_CLASS[code] = `${Math.floor(code / 100)}xx`;
}

/**
 * Maps a status code to its label: `"200"`, or `"2xx"` when `group` is set;
 * {@link INVALID_STATUS} for anything that is not an integer in 100..999.
 */
export function statusLabel(statusCode: unknown, group: boolean): string {
  if (typeof statusCode !== 'number') return INVALID_STATUS;
  const text = group ? STATUS_CLASS[statusCode] : STATUS_TEXT[statusCode];
  return text ?? INVALID_STATUS;
}

/**
 * Joins a mount prefix and a route template the way a router resolves them:
 * `joinRoute('/users', '/:id')` is `/users/:id`, `joinRoute('/users', '/')` is `/users`
 * (a router's `/` under a prefix answers the prefix itself), and a slash shared by both sides
 * is not doubled. An empty prefix returns `path` unchanged.
 */
export function joinRoute(prefix: string, path: string): string {
  if (prefix === '' || prefix === '/') return path === '' ? '/' : path;
  if (path === '' || path === '/') return prefix;
  const prefixSlash = prefix.charCodeAt(prefix.length - 1) === 47;
  const pathSlash = path.charCodeAt(0) === 47;
  if (prefixSlash && pathSlash) return prefix + path.slice(1);
  if (!prefixSlash && !pathSlash) return `${prefix}/${path}`;
  return prefix + path;
}

/**
 * The route label of a route pattern as a router stores it: a string as is, a RegExp as its
 * source text (`/^\/files\/.*$/`), an array as its entries joined by `|` (one route, one
 * label); undefined for anything else (no route matched).
 */
export function patternTemplate(pattern: unknown): string | undefined {
  if (typeof pattern === 'string') return pattern;
  if (pattern instanceof RegExp) return String(pattern);
  if (Array.isArray(pattern)) return pattern.map((p) => patternTemplate(p) ?? '').join('|');
  return undefined;
}
