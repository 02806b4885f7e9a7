/**
 * The single-process store: every series is a plain Float64Array in this process's memory.
 *
 * Families are kept per descriptor object, not per name: two metric objects that happen to
 * share a name (say, one per test in two throwaway registries) stay independent, exactly as
 * they are in prom-client. A metric always passes its own descriptor object, so "same
 * (metric, label values) -> same Cells" holds for every caller that declares once and reuses
 * the descriptor. The file store, which spans processes, necessarily merges by name.
 */

import {
  type Cells,
  type CollectedFamily,
  type CollectedSeries,
  collectedSeries,
  type Store,
  seriesSize,
} from './store.js';
import type { MetricDescriptor } from './types.js';
import { assertOptionKeys } from './validation.js';

/** Cells over one Float64Array. Kept tiny and monomorphic: it is the hot path of every update. */
class MemoryCells implements Cells {
  readonly values: Float64Array;

  constructor(size: number) {
    this.values = new Float64Array(size);
  }

  add(index: number, delta: number): void {
    this.values[index]! += delta;
  }

  set(index: number, value: number): void {
    this.values[index] = value;
  }

  get(index: number): number {
    return this.values[index] ?? 0;
  }
}

/**
 * Cells no store holds: a metric removed from every registry writes here, so its late updates
 * neither reach the store nor bring its forgotten family back.
 */
export function detachedCells(size: number): Cells {
  return new MemoryCells(size);
}

interface MemorySeries {
  readonly labelValues: readonly string[];
  readonly cells: MemoryCells;
}

interface MemoryFamily {
  readonly descriptor: MetricDescriptor;
  readonly size: number;
  /** Keyed by an injective encoding of the label values (JSON of the array). */
  readonly series: Map<string, MemorySeries>;
}

/** Injective key of a label-value list; only used when a series is created or removed. */
function seriesKey(labelValues: readonly string[]): string {
  return JSON.stringify(labelValues);
}

/** Keeps metric values in this process's memory. The default store without PROMETHEUS_MULTIPROC_DIR. */
export class MemoryStore implements Store {
  readonly kind = 'memory';
  private readonly families = new Map<MetricDescriptor, MemoryFamily>();

  /**
   * Takes no options. Throws InvalidOptionError for any given (PROMFORK_UNKNOWN_OPTION: a
   * FileStore option such as `flushIntervalMs` would otherwise be ignored silently in plain
   * JavaScript) or for options that are not an object (PROMFORK_INVALID_OPTION).
   */
  constructor(options?: Readonly<Record<string, never>>) {
    if (options !== undefined) assertOptionKeys(options, [], 'new MemoryStore()');
  }

  declare(descriptor: MetricDescriptor): void {
    this.family(descriptor);
  }

  series(descriptor: MetricDescriptor, labelValues: readonly string[]): Cells {
    const family = this.family(descriptor);
    const key = seriesKey(labelValues);
    let series = family.series.get(key);
    if (series === undefined) {
      series = {
        labelValues: Object.freeze([...labelValues]),
        cells: new MemoryCells(family.size),
      };
      family.series.set(key, series);
    }
    return series.cells;
  }

  remove(descriptor: MetricDescriptor, labelValues: readonly string[]): void {
    this.families.get(descriptor)?.series.delete(seriesKey(labelValues));
  }

  reset(descriptor: MetricDescriptor): void {
    this.families.get(descriptor)?.series.clear();
  }

  forget(descriptor: MetricDescriptor): void {
    this.families.delete(descriptor);
  }

  collect(filter?: (name: string) => boolean): CollectedFamily[] {
    const out: CollectedFamily[] = [];
    for (const family of this.families.values()) {
      if (filter !== undefined && !filter(family.descriptor.name)) continue;
      const series: CollectedSeries[] = [];
      for (const s of family.series.values()) {
        // A copy, so rendering works on a consistent snapshot while updates go on.
        const cells = Float64Array.from(s.cells.values);
        series.push(collectedSeries(family.descriptor, s.labelValues, cells));
      }
      out.push({ descriptor: family.descriptor, series });
    }
    return out;
  }

  flush(): void {}

  close(): void {}

  private family(descriptor: MetricDescriptor): MemoryFamily {
    let family = this.families.get(descriptor);
    if (family === undefined) {
      family = { descriptor, size: seriesSize(descriptor), series: new Map() };
      this.families.set(descriptor, family);
    }
    return family;
  }
}
