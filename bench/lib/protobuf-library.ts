/**
 * The same protobuf exposition built with @bufbuild/protobuf (messages generated from
 * client_model's metrics.proto), for measuring promfork's hand-written encoder against the
 * library on the same data. Covers what the scrape scenarios hold: counters and classic
 * histograms, declared labels only (anything else throws).
 */
import { create } from '@bufbuild/protobuf';
import { sizeDelimitedEncode } from '@bufbuild/protobuf/wire';
import type { CollectedFamily } from '@promfork/core';
import type { Metric } from '../../packages/core/dist/test/proto/gen/io/prometheus/client/metrics_pb.js';

/** The generated messages, loaded by path from the built core tests (from bench/dist/lib/). */
const { MetricFamilySchema, MetricSchema, MetricType } = (await import(
  new URL(
    '../../../packages/core/dist/test/proto/gen/io/prometheus/client/metrics_pb.js',
    import.meta.url,
  ).href
)) as typeof import('../../packages/core/dist/test/proto/gen/io/prometheus/client/metrics_pb.js');
/** The delimited exposition of `families`, encoded by the library. */
export function encodeWithLibrary(families: readonly CollectedFamily[]): Uint8Array {
  const frames: Uint8Array[] = [];
  let size = 0;
  for (const family of families) {
    const d = family.descriptor;
    if (d.type !== 'counter' && d.type !== 'histogram') throw new Error(`${d.type}: not covered`);
    const n = d.buckets.length;
    const metric: Metric[] = family.series.map((series) => {
      const label = d.labelNames.map((name, i) => ({ name, value: series.labelValues[i] ?? '' }));
      const cells = series.cells;
      if (d.type === 'counter') {
        return create(MetricSchema, { label, counter: { value: cells[0] ?? 0 } });
      }
      let cumulative = 0;
      const bucket = d.buckets.map((upperBound, i) => {
        cumulative += cells[i] ?? 0;
        return { cumulativeCount: BigInt(cumulative), upperBound };
      });
      return create(MetricSchema, {
        label,
        histogram: {
          sampleCount: BigInt(cells[n + 2] ?? 0),
          sampleSum: cells[n + 1] ?? 0,
          bucket,
        },
      });
    });
    const message = create(MetricFamilySchema, {
      name: d.name,
      help: d.help,
      type: d.type === 'counter' ? MetricType.COUNTER : MetricType.HISTOGRAM,
      metric,
    });
    const frame = sizeDelimitedEncode(MetricFamilySchema, message);
    frames.push(frame);
    size += frame.length;
  }
  const out = new Uint8Array(size);
  let offset = 0;
  for (const frame of frames) {
    out.set(frame, offset);
    offset += frame.length;
  }
  return out;
}
