/**
 * The Prometheus text format 0.0.4 (the format every Prometheus server and promtool reads).
 *
 * Per family: `# HELP name text` (left out when the help is empty), `# TYPE name type`, then one line per sample:
 * `name{labels} value [timestampMs]`. Sample names and label order are taken from the input
 * as given (prom-client's `get()` shape): histogram samples carry `metricName` `x_bucket` /
 * `x_sum` / `x_count` with an `le` label, summaries `quantile` samples plus `x_sum` / `x_count`,
 * counters use the family name as given (with or without `_total`). Exemplars are not part of
 * this format and are left out.
 *
 * Known limit of the format: Prometheus' parser skips blanks between the metric name and the
 * HELP text, so leading spaces or tabs of a help text do not survive 0.0.4 (OpenMetrics keeps
 * them), and there is no escape that could protect them.
 */
import type { LabelValue, MetricObject, MetricType } from '../types.js';
import { CHUNK_CHARS, ChunkedOutput } from './chunked-output.js';
import { escapeHelpText } from './escape.js';
import { SampleLabelRenderer } from './label-set.js';
import { formatTimestampMs, formatValue } from './number.js';

/** Content type of the Prometheus text format 0.0.4. */
export const PROMETHEUS_CONTENT_TYPE = 'text/plain; version=0.0.4; charset=utf-8';

/** `le` and `quantile` given as numbers are rendered like values (`+Inf`, not `Infinity`). */
function numericLabel(value: LabelValue): string {
  return typeof value === 'number' ? formatValue(value) : value;
}

/** The label whose numeric value is rendered like a sample value, per type. */
function specialLabel(type: MetricType): string | undefined {
  return type === 'histogram' ? 'le' : type === 'summary' ? 'quantile' : undefined;
}

/**
 * Renders metric families in the Prometheus text format 0.0.4. Each line ends with a line
 * feed; no families give the empty string. Samples are written in input order, so each series'
 * samples must be grouped (as prom-client's `get()` groups them).
 */
export function formatText(metrics: readonly MetricObject[]): string {
  const output = new ChunkedOutput();
  let out = '';
  for (const family of metrics) {
    // An empty HELP line says nothing (and promtool flags it); leave it out.
    if (family.help !== '') out += `# HELP ${family.name} ${escapeHelpText(family.help)}\n`;
    out += `# TYPE ${family.name} ${family.type}\n`;
    const labels = new SampleLabelRenderer(specialLabel(family.type), numericLabel);
    for (const sample of family.values) {
      out += `${sample.metricName ?? family.name}${labels.render(sample.labels)} ${formatValue(sample.value)}`;
      if (sample.timestamp !== undefined && Number.isFinite(sample.timestamp)) {
        out += ` ${formatTimestampMs(sample.timestamp)}`;
      }
      out += '\n';
      if (out.length >= CHUNK_CHARS) {
        output.push(out);
        out = '';
      }
    }
  }
  output.push(out);
  return output.join();
}
