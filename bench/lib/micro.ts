/**
 * The shared shape of the micro scenarios: one hot-path call, measured for promfork on the
 * MemoryStore and on the FileStore and for prom-client in the same run, followed by a check
 * that the MemoryStore and the FileStore rendered the same family after the same calls.
 */

import type { Store } from '@promfork/core';
import { Registry } from '@promfork/core';
import promClient from 'prom-client';
import { compareLoops, microPlan } from './measure.js';
import { peerName } from './peers.js';
import { openStores } from './stores.js';
import type { BenchResult, ScenarioContext } from './types.js';
import { result } from './types.js';

/** What a micro scenario supplies. */
export interface MicroSpec {
  /** Result id of the FileStore figure; the MemoryStore figure gets `<id>.memory`. */
  readonly id: string;
  /** Metric name used on every side. */
  readonly metric: string;
  /** Builds promfork's loop body on `store`, registering in `registry`. */
  ours(store: Store, registry: Registry): (i: number) => void;
  /** What bounds promfork's figure (shown when the goal is missed). */
  readonly limit: string;
  /** Builds prom-client's loop body, registering in `registry`. */
  peer(registry: promClient.Registry): (i: number) => void;
}

/** Runs one micro scenario; see the module comment. */
export async function runMicro(spec: MicroSpec, context: ScenarioContext): Promise<BenchResult[]> {
  const plan = microPlan(context.quick);
  const stores = openStores(spec.id);
  const memoryRegistry = new Registry();
  const fileRegistry = new Registry();
  const peerRegistry = new promClient.Registry();
  try {
    const contenders = [spec.ours(stores.memory.store, memoryRegistry), spec.peer(peerRegistry)];
    if (stores.file !== undefined) contenders.push(spec.ours(stores.file.store, fileRegistry));
    const [memory, peer, file] = compareLoops(plan, contenders);
    const name = peerName('prom-client');
    context.limit(spec.id, spec.limit);
    if (stores.file === undefined) {
      context.note(spec.id, `FileStore not measured: ${stores.fileError}`);
    } else {
      // Same calls on both stores: the rendered family must be identical.
      stores.file.store.flush();
      const fromMemory = await memoryRegistry.getSingleMetricAsString(spec.metric);
      const fromFile = await fileRegistry.getSingleMetricAsString(spec.metric);
      if (fromMemory !== fromFile) {
        throw new Error(
          `${spec.id}: MemoryStore and FileStore disagree after the same calls:\n--- memory ---\n${fromMemory}\n--- file ---\n${fromFile}`,
        );
      }
      context.note(
        spec.id,
        `FileStore ÷ MemoryStore = ${((file ?? 0) / (memory ?? 1)).toFixed(2)} (issue 3 asks for ≤ 1.5 on labelled inc); ` +
          'both stores rendered the same family after the same calls.',
      );
    }
    return [
      result(spec.id, 'ns/op', file ?? null, peer ?? null, name),
      result(`${spec.id}.memory`, 'ns/op', memory ?? null, peer ?? null, name),
    ];
  } finally {
    stores.memory.close();
    stores.file?.close();
  }
}
