/**
 * Collected families (store slot layouts, see store.ts) -> prom-client's MetricObject, which
 * exposition renders. The one conversion every store goes through, so a memory scrape and a
 * file scrape cannot disagree.
 *
 * Label order of every sample: declared labels (declaration order), then labels the store adds
 * (`pid`), then registry default labels not already present, then `le` / `quantile` last.
 */
import { laterExemplar } from './exemplar.js';
import { sketchQuantiles } from './sketch.js';
import {
  type CollectedFamily,
  type CollectedSeries,
  GAUGE_VALUE,
  histogramCountIndex,
  histogramSumIndex,
  SUMMARY_COUNT,
  SUMMARY_SKETCH,
  SUMMARY_SUM,
} from './store.js';
import type { Exemplar, LabelValue, MetricDescriptor, MetricObject, MetricValue } from './types.js';

/** How to turn one family into a MetricObject. */
export interface SnapshotOptions {
  /** Aggregator name reported for the family. @default 'sum' */
  readonly aggregator?: string;
  /** Registry default labels, added where a series has no label of that name. */
  readonly defaultLabels?: Readonly<Record<string, string>>;
  /**
   * Exemplar lookup (a series, slot: 0 for counters, bucket index for histograms); see
   * {@link latestExemplarOf} for the usual one.
   */
  readonly exemplars?: (series: CollectedSeries, slot: number) => Exemplar | undefined;
  /** Current time for summary windows. */
  readonly nowMs: number;
}

/**
 * The labels record of a series' samples before `le` / `quantile`: declared labels, then the
 * store's extra labels, then the default labels the series does not already have.
 */
export function sampleLabels(
  names: readonly string[],
  series: CollectedSeries,
  defaults: Readonly<Record<string, string>> | undefined,
): Record<string, LabelValue> {
  const labels: Record<string, LabelValue> = {};
  for (let i = 0; i < names.length; i++) {
    labels[names[i] as string] = series.labelValues[i] ?? '';
  }
  if (series.extraLabels !== undefined) {
    for (const [name, value] of Object.entries(series.extraLabels)) labels[name] = value;
  }
  if (defaults !== undefined) {
    for (const [name, value] of Object.entries(defaults)) {
      if (!Object.hasOwn(labels, name)) labels[name] = value;
    }
  }
  return labels;
}

function sample(
  value: number,
  labels: Record<string, LabelValue>,
  metricName?: string,
  exemplar?: Exemplar,
): MetricValue {
  const out: { -readonly [K in keyof MetricValue]: MetricValue[K] } = { value, labels };
  if (metricName !== undefined) out.metricName = metricName;
  if (exemplar !== undefined) out.exemplar = exemplar;
  return out;
}

/** Converts one collected family to prom-client's MetricObject shape. */
export function familyToMetricObject(
  family: CollectedFamily,
  options: SnapshotOptions,
): MetricObject {
  const { descriptor } = family;
  const { name, labelNames } = descriptor;
  const values: MetricValue[] = [];
  for (const series of family.series) {
    const labels = sampleLabels(labelNames, series, options.defaultLabels);
    const cells = series.cells;
    switch (descriptor.type) {
      case 'counter':
        values.push(sample(cells[0] ?? 0, labels, undefined, options.exemplars?.(series, 0)));
        break;
      case 'gauge':
        values.push(sample(cells[GAUGE_VALUE] ?? 0, labels));
        break;
      case 'histogram': {
        const bounds = descriptor.buckets;
        let cumulative = 0;
        for (let i = 0; i <= bounds.length; i++) {
          cumulative += cells[i] ?? 0;
          const le: LabelValue = i < bounds.length ? (bounds[i] as number) : '+Inf';
          values.push(
            sample(cumulative, { ...labels, le }, `${name}_bucket`, options.exemplars?.(series, i)),
          );
        }
        values.push(sample(cells[histogramSumIndex(bounds.length)] ?? 0, labels, `${name}_sum`));
        values.push(
          sample(cells[histogramCountIndex(bounds.length)] ?? 0, labels, `${name}_count`),
        );
        break;
      }
      case 'summary': {
        const settings = descriptor.summary;
        if (settings !== undefined && settings.percentiles.length > 0) {
          const quantiles = sketchQuantiles([cells], SUMMARY_SKETCH, settings, options.nowMs);
          settings.percentiles.forEach((quantile, i) => {
            values.push(sample(quantiles[i] ?? Number.NaN, { ...labels, quantile }));
          });
        }
        values.push(sample(cells[SUMMARY_SUM] ?? 0, labels, `${name}_sum`));
        values.push(sample(cells[SUMMARY_COUNT] ?? 0, labels, `${name}_count`));
        break;
      }
    }
  }
  return {
    name,
    help: descriptor.help,
    type: descriptor.type,
    values,
    aggregator: options.aggregator ?? 'sum',
  };
}

/**
 * The family of `descriptor` among collected ones: the same descriptor object first (a memory
 * store keeps metric objects apart), else the family of that name (a file store merges by name).
 */
export function pickFamily(
  families: readonly CollectedFamily[],
  descriptor: MetricDescriptor,
): CollectedFamily | undefined {
  return (
    families.find((f) => f.descriptor === descriptor) ??
    families.find((f) => f.descriptor.name === descriptor.name)
  );
}

/** A metric's own exemplars, by the slots of its own definition (metric.ts `exemplarFor`). */
export interface OwnExemplars {
  readonly descriptor: MetricDescriptor;
  exemplarFor(labelValues: readonly string[], slot: number): Exemplar | undefined;
}

/**
 * The exemplar lookup of a family: the later of what the store collected (every process's
 * latest, FileStore) and what `own` (the metric's own children, when it keeps exemplars)
 * holds; undefined when neither can have any, so that renderers skip the lookup. `own` counts
 * only where its slots are the family's: a family merged under a newer definition with other
 * buckets (or of another type) would show them on the wrong lines, so they are dropped there,
 * as the store's merge drops the exemplars of re-bucketed series.
 */
export function latestExemplarOf(
  family: CollectedFamily,
  own?: OwnExemplars,
): ((series: CollectedSeries, slot: number) => Exemplar | undefined) | undefined {
  const stored = family.hasExemplars === true;
  const mine = own !== undefined && sameExemplarSlots(own.descriptor, family.descriptor);
  if (!mine) return stored ? (series, slot) => series.exemplars?.[slot] : undefined;
  if (!stored) return (series, slot) => own.exemplarFor(series.labelValues, slot);
  return (series, slot) =>
    laterExemplar(own.exemplarFor(series.labelValues, slot), series.exemplars?.[slot]);
}

/** Whether exemplar slot numbers mean the same bucket in both definitions. */
function sameExemplarSlots(a: MetricDescriptor, b: MetricDescriptor): boolean {
  if (a === b) return true;
  if (a.type !== b.type) return false;
  return a.buckets.length === b.buckets.length && a.buckets.every((x, i) => x === b.buckets[i]);
}
