/**
 * Exposition formats. OWNED BY THE EXPOSITION WORK: these signatures are the contract the
 * registry and core/http code against.
 */
import type { MetricObject } from '../types.js';

/** Content type of the Prometheus text format 0.0.4. */
export const PROMETHEUS_CONTENT_TYPE = 'text/plain; version=0.0.4; charset=utf-8';
/** Content type of OpenMetrics 1.0.0. */
export const OPENMETRICS_CONTENT_TYPE =
  'application/openmetrics-text; version=1.0.0; charset=utf-8';

/** A format an exposition can be rendered in. */
export interface ExpositionFormat {
  readonly name: 'prometheus' | 'openmetrics';
  readonly contentType: string;
  render(metrics: readonly MetricObject[]): string;
}

/** Renders metric families in the Prometheus text format 0.0.4. */
export function formatText(metrics: readonly MetricObject[]): string {
  void metrics;
  throw new Error('exposition: not implemented yet');
}

/** Renders metric families in OpenMetrics 1.0.0 text, ending with `# EOF`. */
export function formatOpenMetrics(metrics: readonly MetricObject[]): string {
  void metrics;
  throw new Error('exposition: not implemented yet');
}

/** Chooses the format for an HTTP `Accept` header (Prometheus text when absent or unknown). */
export function negotiateFormat(accept: string | undefined): ExpositionFormat {
  void accept;
  throw new Error('exposition: not implemented yet');
}
