/**
 * The `up` gauge's switch for a graceful shutdown: `setServing(false)` before the server stops
 * accepting requests tells the next scrape this process is going away on purpose.
 */
import { Gauge } from '../gauge.js';
import { type Registry, register } from '../registry.js';
import { CONVENTIONS } from './conventions.js';

/** Options of {@link setServing}. */
export interface SetServingOptions {
  /**
   * Registry holding the gauge (the adapter's `registry` option).
   * @default register (the default registry)
   */
  readonly registry?: Registry;
  /**
   * Full name of the gauge, prefix included (the adapter's `metricPrefix` + `metricNames.up`).
   * @default 'up'
   */
  readonly name?: string;
}

/**
 * Sets the `up` gauge an adapter created (option `up: true`) to 1 (`true`) or 0 (`false`).
 * Returns false, changing nothing, when the registry has no gauge of that name; never throws,
 * so a shutdown path can call it unconditionally. In multi-process mode the target reads 0
 * once every live process has called it (the gauge is the maximum over live processes).
 */
export function setServing(serving: boolean, options: SetServingOptions = {}): boolean {
  const registry = options.registry ?? register;
  const metric = registry.getSingleMetric(options.name ?? CONVENTIONS.promfork.metricNames.up);
  if (!(metric instanceof Gauge)) return false;
  metric.set(serving ? 1 : 0);
  return true;
}
