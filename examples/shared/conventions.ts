/**
 * The naming preset the examples' adapters use, from `PROMFORK_CONVENTIONS` (read by each
 * worker from its environment; the primary, or PM2, passes its own on). Unset: the adapters'
 * default names (`http_requests_total`, ...), which `examples/grafana/promfork-http.json`
 * shows; `opentelemetry`: the OpenTelemetry names, which `promfork-http-otel.json` shows. Any
 * value the adapters do not know stops the worker with a message naming it.
 */
import { HTTP_CONVENTIONS, type HttpConventions } from '@promfork/core';
import { ConfigError } from './config.js';

/** The environment variable that picks the examples' naming preset. */
export const CONVENTIONS_VARIABLE = 'PROMFORK_CONVENTIONS';

/** `{ conventions }` for the adapter's options when the variable is set, else `{}`. */
export function exampleConventions(env: NodeJS.ProcessEnv = process.env): {
  conventions?: HttpConventions;
} {
  const raw = env[CONVENTIONS_VARIABLE];
  if (raw === undefined) return {};
  const preset = HTTP_CONVENTIONS.find((name) => name === raw);
  if (preset === undefined) {
    throw new ConfigError(
      `${CONVENTIONS_VARIABLE} must be one of ${HTTP_CONVENTIONS.join(', ')}, got ${JSON.stringify(raw)}`,
    );
  }
  return { conventions: preset };
}
