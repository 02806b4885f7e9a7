/**
 * Which metric names metric objects of THIS process have declared on each store, and, on
 * stores that share series by name, which objects share them.
 *
 * A file store's `collect()` also returns families that only other processes declared; the
 * default registry shows those "foreign" families (so a primary or a worker that never touched
 * a metric still serves it), but must not show families this process declared for another
 * registry. This per-store count is how it tells the two apart. Keyed weakly by store, so a
 * dropped store takes its entry with it.
 */
import type { Store } from './store.js';
import type { MetricDescriptor } from './types.js';

const declared = new WeakMap<Store, Map<string, number>>();

/** Records that a metric object of this process declared `name` on `store`. */
export function noteDeclared(store: Store, name: string): void {
  let names = declared.get(store);
  if (names === undefined) {
    names = new Map();
    declared.set(store, names);
  }
  names.set(name, (names.get(name) ?? 0) + 1);
}

/** Records that a metric object declared as `name` on `store` was forgotten (removed). */
export function noteForgotten(store: Store, name: string): void {
  const names = declared.get(store);
  const count = names?.get(name);
  if (names === undefined || count === undefined) return;
  if (count <= 1) names.delete(name);
  else names.set(name, count - 1);
}

/** True when a metric object of this process declared `name` on `store`. */
export function isDeclaredHere(store: Store, name: string): boolean {
  return declared.get(store)?.has(name) ?? false;
}

/**
 * A metric object as the others of its name on the same store see it: what it does when one
 * of them dropped series they share (see {@link Store.sharesSeriesByName}).
 */
export interface SeriesSharer {
  /** Its definition: only objects of one definition share series. */
  readonly descriptor: MetricDescriptor;
  /**
   * Another object of this name dropped the series of `labelValues` (`remove`), or all of
   * them (`undefined`: `reset`) in the store: this object's children of those series must
   * write into the series as they are now, as after its own drop.
   */
  droppedByPeer(labelValues: readonly string[] | undefined): void;
}

/**
 * The declared objects per name, per store that shares series by name. Held weakly: a metric
 * object that is never removed from its registries must still be collectable with them.
 */
const sharers = new WeakMap<Store, Map<string, Set<WeakRef<SeriesSharer>>>>();

/** Records that `metric`, declared as `name` on `store`, shares that name's series. */
export function joinSharers(store: Store, name: string, metric: SeriesSharer): void {
  if (store.sharesSeriesByName !== true) return;
  let names = sharers.get(store);
  if (names === undefined) {
    names = new Map();
    sharers.set(store, names);
  }
  let set = names.get(name);
  if (set === undefined) {
    set = new Set();
    names.set(name, set);
  }
  set.add(new WeakRef(metric));
}

/**
 * Removes `metric` from the sharers of `name` on `store` and returns the others still alive
 * (empty on a store that does not share series by name).
 */
export function leaveSharers(store: Store, name: string, metric: SeriesSharer): SeriesSharer[] {
  const others = peersOf(store, name, metric);
  const set = sharers.get(store)?.get(name);
  if (set !== undefined) {
    for (const ref of set) if (ref.deref() === metric) set.delete(ref);
    if (set.size === 0) sharers.get(store)?.delete(name);
  }
  return others;
}

/**
 * The other live objects declared as `name` on `store` that share its series with `metric`
 * (dead references are dropped on the way). Called on drops, never on the update path.
 */
export function peersOf(store: Store, name: string, metric: SeriesSharer): SeriesSharer[] {
  const set = sharers.get(store)?.get(name);
  if (set === undefined) return [];
  const peers: SeriesSharer[] = [];
  for (const ref of set) {
    const peer = ref.deref();
    if (peer === undefined) set.delete(ref);
    else if (peer !== metric) peers.push(peer);
  }
  return peers;
}
