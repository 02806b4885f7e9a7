/**
 * Which metric names metric objects of THIS process have declared on each store.
 *
 * A file store's `collect()` also returns families that only other processes declared; the
 * default registry shows those "foreign" families (so a primary or a worker that never touched
 * a metric still serves it), but must not show families this process declared for another
 * registry. This per-store count is how it tells the two apart. Keyed weakly by store, so a
 * dropped store takes its entry with it.
 */
import type { Store } from './store.js';

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
