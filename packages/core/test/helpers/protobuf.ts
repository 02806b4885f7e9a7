/**
 * Decodes a delimited protobuf exposition with @bufbuild/protobuf and the code generated from
 * client_model's metrics.proto (test/proto, `node scripts/gen-proto.mjs`): an independent
 * decoder for checking promfork's hand-written encoder.
 */
import { fromBinary } from '@bufbuild/protobuf';
import { BinaryReader } from '@bufbuild/protobuf/wire';
import {
  type Metric,
  type MetricFamily,
  MetricFamilySchema,
  MetricType,
} from '../proto/gen/io/prometheus/client/metrics_pb.js';

export type { Metric, MetricFamily };
export { MetricType };

/** What Prometheus 2.42 sends with `--enable-feature=native-histograms` (captured from one). */
export const PROMETHEUS_NATIVE_ACCEPT =
  'application/vnd.google.protobuf;proto=io.prometheus.client.MetricFamily;encoding=delimited,' +
  'application/openmetrics-text;version=1.0.0;q=0.8,application/openmetrics-text;version=0.0.1;q=0.75,' +
  'text/plain;version=0.0.4;q=0.5,*/*;q=0.1';

/** Every `MetricFamily` of a delimited stream (each message preceded by its varint length). */
export function decodeDelimited(bytes: Uint8Array): MetricFamily[] {
  const reader = new BinaryReader(bytes);
  const families: MetricFamily[] = [];
  while (reader.pos < reader.len) families.push(fromBinary(MetricFamilySchema, reader.bytes()));
  return families;
}

/** A sample as the text format shows it, for comparing a decoded exposition with text. */
export interface FlatSample {
  readonly name: string;
  readonly labels: Record<string, string>;
  readonly value: number;
}

/**
 * The samples Prometheus reads from decoded families, in the text format's naming: histogram
 * `_bucket` (with the `+Inf` bucket from `sample_count` when not written), `_sum`, `_count`;
 * summary quantiles, `_sum`, `_count`. `le` and `quantile` are given as `String(Number(x))`.
 */
export function flatten(families: readonly MetricFamily[]): FlatSample[] {
  const out: FlatSample[] = [];
  for (const family of families) {
    for (const metric of family.metric) {
      const labels: Record<string, string> = {};
      for (const pair of metric.label) labels[pair.name] = pair.value;
      const name = family.name;
      switch (family.type) {
        case MetricType.COUNTER:
          out.push({ name, labels, value: metric.counter?.value ?? Number.NaN });
          break;
        case MetricType.GAUGE:
          out.push({ name, labels, value: metric.gauge?.value ?? Number.NaN });
          break;
        case MetricType.HISTOGRAM: {
          const h = metric.histogram;
          const count = Number(h?.sampleCount ?? 0n);
          let sawInf = false;
          for (const bucket of h?.bucket ?? []) {
            if (bucket.upperBound === Number.POSITIVE_INFINITY) sawInf = true;
            out.push({
              name: `${name}_bucket`,
              labels: { ...labels, le: String(bucket.upperBound) },
              value: Number(bucket.cumulativeCount),
            });
          }
          if (!sawInf) {
            out.push({
              name: `${name}_bucket`,
              labels: { ...labels, le: 'Infinity' },
              value: count,
            });
          }
          out.push({ name: `${name}_sum`, labels, value: h?.sampleSum ?? Number.NaN });
          out.push({ name: `${name}_count`, labels, value: count });
          break;
        }
        case MetricType.SUMMARY: {
          const s = metric.summary;
          for (const q of s?.quantile ?? []) {
            out.push({ name, labels: { ...labels, quantile: String(q.quantile) }, value: q.value });
          }
          out.push({ name: `${name}_sum`, labels, value: s?.sampleSum ?? Number.NaN });
          out.push({ name: `${name}_count`, labels, value: Number(s?.sampleCount ?? 0n) });
          break;
        }
        default:
          throw new Error(`unexpected type ${family.type} of ${name}`);
      }
    }
  }
  return out;
}
