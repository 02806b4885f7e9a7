/**
 * Exemplars in the examples, from `PROMFORK_EXEMPLARS` (read by each worker from its
 * environment; the primary, or PM2, passes its own on). `1`: every request's count and latency
 * carry an exemplar `{ trace_id, pid }`: the trace id of a W3C `traceparent` request header when
 * there is one (what a tracing proxy or client sends), else a random one, and the pid of the
 * worker that served it, so that a scrape answered by one worker visibly shows the exemplars of
 * the others (the FileStore merges them). Unset or `0`: no exemplars, the examples' default. Any
 * other value stops the worker with a message.
 */
import { randomBytes } from 'node:crypto';
import type { HttpMetricsOptions } from '@promfork/core';
import { ConfigError } from './config.js';

/** The environment variable that turns exemplars on in the examples. */
export const EXEMPLARS_VARIABLE = 'PROMFORK_EXEMPLARS';

/** `traceparent: 00-<32 hex trace id>-<16 hex span id>-<2 hex flags>` (W3C Trace Context). */
const TRACEPARENT = /^[0-9a-f]{2}-([0-9a-f]{32})-[0-9a-f]{16}-[0-9a-f]{2}$/;

/** The trace id of a request's `traceparent` header, else a random one. */
export function traceIdOf(req: unknown): string {
  // Express `req`, Koa `ctx` and Fastify `request` all have `headers`.
  const header = (req as { headers?: Record<string, unknown> }).headers?.traceparent;
  const match = typeof header === 'string' ? TRACEPARENT.exec(header) : null;
  return match?.[1] ?? randomBytes(16).toString('hex');
}

/** `{ exemplarLabels }` for the adapter's options when the variable is `1`, else `{}`. */
export function exampleExemplars(
  env: NodeJS.ProcessEnv = process.env,
): Pick<HttpMetricsOptions, 'exemplarLabels'> {
  const raw = env[EXEMPLARS_VARIABLE];
  if (raw !== undefined && raw !== '0' && raw !== '1') {
    throw new ConfigError(`${EXEMPLARS_VARIABLE} must be 0 or 1, got ${JSON.stringify(raw)}`);
  }
  if (raw !== '1') return {};
  const pid = String(process.pid);
  return { exemplarLabels: (req) => ({ trace_id: traceIdOf(req), pid }) };
}
