/**
 * OpenMetrics 1.0.0 text format.
 *
 * Differences from the Prometheus text format 0.0.4 that this renderer applies:
 * - metadata order TYPE, UNIT, HELP; an empty HELP is left out (the spec treats it as absent);
 * - a counter family's name never ends in `_total` and its sample always does: prom-client
 *   style names that already end in `_total` lose the suffix on the family line only;
 * - `le` and `quantile` label values in canonical number form (`1.0`, `+Inf`, `1e+06`);
 * - HELP escapes double quotes too;
 * - timestamps in seconds (the input carries milliseconds);
 * - exemplars (` # {labels} value [timestamp]`) on counter samples and histogram buckets;
 * - `# UNIT name unit` when the family has a unit that is the suffix of its name;
 * - the exposition ends with `# EOF`.
 */
import type { Exemplar, LabelValue, MetricObject, MetricValue } from '../types.js';
import { CHUNK_CHARS, ChunkedOutput } from './chunked-output.js';
import { escapeHelpOpenMetrics } from './escape.js';
import { renderLabelSet, SampleLabelRenderer } from './label-set.js';
import { formatCanonical, formatTimestampSeconds, formatValue } from './number.js';

/** Content type of OpenMetrics 1.0.0. */
export const OPENMETRICS_CONTENT_TYPE =
  'application/openmetrics-text; version=1.0.0; charset=utf-8';

/**
 * Longest exemplar label set OpenMetrics allows: label names and values together, in Unicode
 * code points. Exemplars over the limit are not rendered (they would make the whole exposition
 * invalid); metrics should reject them when they are recorded.
 */
export const EXEMPLAR_MAX_LABEL_CHARS = 128;

/** Counter samples carry this suffix in OpenMetrics; the family name does not. */
const TOTAL = '_total';

/**
 * Family name of a metric in OpenMetrics: a counter's name without a trailing `_total`,
 * every other type's name unchanged.
 */
export function openMetricsFamilyName(family: Pick<MetricObject, 'name' | 'type'>): string {
  if (
    family.type === 'counter' &&
    family.name.endsWith(TOTAL) &&
    family.name.length > TOTAL.length
  ) {
    return family.name.slice(0, -TOTAL.length);
  }
  return family.name;
}

/** Number of code points in an exemplar's label names and values (the spec's limit counts these). */
export function exemplarLabelChars(labels: Readonly<Record<string, string>>): number {
  let chars = 0;
  for (const name in labels) {
    // Label names are ASCII; values may hold astral characters, which count once each.
    chars += name.length;
    for (const _ of labels[name] as string) chars += 1;
  }
  return chars;
}

/**
 * Canonical `le`/`quantile`, whether the input gave a number or a numeric string (`'+Inf'`,
 * `'0.5'`). A non-numeric string is left as is.
 */
export function canonicalLabel(value: LabelValue): string {
  if (typeof value === 'number') return formatCanonical(value);
  const n = parseCanonicalInput(value);
  return n === undefined ? value : formatCanonical(n);
}

function parseCanonicalInput(text: string): number | undefined {
  switch (text) {
    case '+Inf':
    case 'Inf':
      return Number.POSITIVE_INFINITY;
    case '-Inf':
      return Number.NEGATIVE_INFINITY;
    case 'NaN':
      return Number.NaN;
  }
  if (!/^[+-]?(?:\d+\.?\d*|\.\d+)(?:[eE][+-]?\d+)?$/.test(text)) return undefined;
  return Number(text);
}

/**
 * Renders metric families in OpenMetrics 1.0.0 text, ending with `# EOF\n`. Samples are written
 * in input order, so each series' samples must be grouped and histogram buckets ascending (as
 * prom-client's `get()` produces them).
 */
export function formatOpenMetrics(metrics: readonly MetricObject[]): string {
  const output = new ChunkedOutput();
  let out = '';
  for (const family of metrics) {
    const name = openMetricsFamilyName(family);
    out += `# TYPE ${name} ${family.type}\n`;
    if (family.unit !== undefined && family.unit !== '' && name.endsWith(`_${family.unit}`)) {
      out += `# UNIT ${name} ${family.unit}\n`;
    }
    if (family.help !== '') out += `# HELP ${name} ${escapeHelpOpenMetrics(family.help)}\n`;
    const numericLabel =
      family.type === 'histogram' ? 'le' : family.type === 'summary' ? 'quantile' : undefined;
    const labels = new SampleLabelRenderer(numericLabel, canonicalLabel);
    for (const sample of family.values) {
      const sampleName = family.type === 'counter' ? name + TOTAL : (sample.metricName ?? name);
      out += `${sampleName}${labels.render(sample.labels)} ${formatValue(sample.value)}`;
      if (sample.timestamp !== undefined && Number.isFinite(sample.timestamp)) {
        out += ` ${formatTimestampSeconds(sample.timestamp)}`;
      }
      if (sample.exemplar !== undefined && allowsExemplar(family, sample)) {
        out += renderExemplar(sample.exemplar);
      }
      out += '\n';
      if (out.length >= CHUNK_CHARS) {
        output.push(out);
        out = '';
      }
    }
  }
  output.push(`${out}# EOF\n`);
  return output.join();
}

/** Exemplars are allowed on a counter's total and on histogram buckets only. */
function allowsExemplar(family: MetricObject, sample: MetricValue): boolean {
  if (family.type === 'counter') return true;
  return family.type === 'histogram' && (sample.metricName ?? '').endsWith('_bucket');
}

/**
 * The exemplar suffix of a sample line, ` # {labels} value [timestamp]`, or the empty string
 * when its labels exceed {@link EXEMPLAR_MAX_LABEL_CHARS}.
 */
export function renderExemplar(exemplar: Exemplar): string {
  if (exemplarLabelChars(exemplar.labels) > EXEMPLAR_MAX_LABEL_CHARS) return '';
  let out = ` # ${renderLabelSet(exemplar.labels) || '{}'} ${formatValue(exemplar.value)}`;
  if (exemplar.timestamp !== undefined && Number.isFinite(exemplar.timestamp)) {
    out += ` ${formatValue(exemplar.timestamp)}`;
  }
  return out;
}
