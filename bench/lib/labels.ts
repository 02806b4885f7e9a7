/**
 * The label sets every "labels3" scenario cycles through: three labels, 100 combinations,
 * built once up front so neither contender pays for building label objects in the loop.
 */

/** The three label names, in declaration order. */
export const LABEL_NAMES = ['method', 'route', 'status_code'] as const;

/**
 * How every labels3 scenario declares its metric, the same on both libraries (each adds its
 * registry, and promfork its store): the three label names, a throwaway help text.
 */
export function labels3Metric(name: string) {
  return { name, help: 'bench', labelNames: LABEL_NAMES };
}

/** A label set of the scenarios. */
export type Labels3 = Record<(typeof LABEL_NAMES)[number], string>;

const METHODS = ['GET', 'POST', 'PUT', 'DELETE'];
const ROUTES = ['/', '/users', '/users/:id', '/users/:id/posts', '/health'];
const STATUSES = ['200', '201', '404', '500', '503'];

/** 100 label objects: every method × route × status combination. */
export const LABEL_SETS: readonly Labels3[] = METHODS.flatMap((method) =>
  ROUTES.flatMap((route) => STATUSES.map((status_code) => ({ method, route, status_code }))),
);

/** Observation values for histograms: dyadic fractions, so sums are exact in any order. */
export const OBSERVATIONS: readonly number[] = [
  0.001953125, 0.0078125, 0.03125, 0.0625, 0.125, 0.25, 0.5, 0.75, 1.5, 3, 6, 12,
];

/** `count` label sets for scrape scenarios: `route` varies, method and status are fixed. */
export function manyLabelSets(count: number): Labels3[] {
  const sets: Labels3[] = [];
  for (let i = 0; i < count; i++) {
    sets.push({ method: METHODS[i % 4] as string, route: `/r/${i}`, status_code: '200' });
  }
  return sets;
}
