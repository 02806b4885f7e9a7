/**
 * The HTTP metrics options every example passes to its framework's adapter, so the three
 * examples measure the same things. Read by each worker from its environment (the primary,
 * or PM2, passes its own environment on).
 *
 * `PROMFORK_NATIVE_HISTOGRAMS=1` also keeps `http_request_duration_seconds` as a native
 * histogram (default settings: bucket factor 1.1, schema 3), served to a Prometheus that asks
 * for the protobuf format (`--enable-feature=native-histograms`). Unset or `0`: classic
 * buckets only, the examples' default. Any other value stops the worker with a message.
 * `PROMFORK_EXEMPLARS=1` adds exemplars (exemplars.ts).
 */
import type { HttpMetricsOptions } from '@promfork/core';
import { ConfigError } from './config.js';
import { exampleConventions } from './conventions.js';
import { exampleExemplars } from './exemplars.js';

/** The environment variable that turns native histograms on in the examples. */
export const NATIVE_HISTOGRAMS_VARIABLE = 'PROMFORK_NATIVE_HISTOGRAMS';

/**
 * The adapters' options: `inFlight` (the dashboard shows it) and, when asked, native histograms,
 * exemplars (`PROMFORK_EXEMPLARS`, exemplars.ts) and the naming preset of
 * `PROMFORK_CONVENTIONS` (conventions.ts).
 */
export function exampleMetricsOptions(
  env: NodeJS.ProcessEnv = process.env,
): Pick<HttpMetricsOptions, 'inFlight' | 'nativeHistogram' | 'conventions' | 'exemplarLabels'> {
  const raw = env[NATIVE_HISTOGRAMS_VARIABLE];
  if (raw !== undefined && raw !== '0' && raw !== '1') {
    throw new ConfigError(
      `${NATIVE_HISTOGRAMS_VARIABLE} must be 0 or 1, got ${JSON.stringify(raw)}`,
    );
  }
  // inFlight adds the http_requests_in_flight gauge the example dashboard (examples/grafana) shows.
  const native = raw === '1' ? { nativeHistogram: true } : {};
  return { inFlight: true, ...native, ...exampleExemplars(env), ...exampleConventions(env) };
}
