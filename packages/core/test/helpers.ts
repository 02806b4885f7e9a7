/** Test helpers: a fresh registry and memory store per test, so tests never share state. */

import type { MetricObject } from '../src/index.js';
import { MemoryStore, Registry } from '../src/index.js';

/** A registry plus a private store; pass `...iso` into metric options. */
export function isolated(): {
  registry: Registry;
  iso: { registers: Registry[]; store: MemoryStore };
} {
  const registry = new Registry();
  return { registry, iso: { registers: [registry], store: new MemoryStore() } };
}

/** `[labels, value]` pairs of a MetricObject's samples, with metricName when present. */
export function samples(metric: MetricObject): [string, Record<string, unknown>, number][] {
  return metric.values.map((v) => [v.metricName ?? metric.name, { ...v.labels }, v.value]);
}

/** The body of a text-format scrape (fails the test when the scrape gave bytes). */
export function textBody(result: { readonly body: string | Uint8Array }): string {
  if (typeof result.body !== 'string') throw new TypeError('expected a text exposition, got bytes');
  return result.body;
}

/** A small seeded generator (mulberry32): model tests replay a failing seed exactly. */
export function seededRandom(seed: number): () => number {
  let s = seed >>> 0;
  return () => {
    s = (s + 0x6d2b79f5) >>> 0;
    let t = s;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}
