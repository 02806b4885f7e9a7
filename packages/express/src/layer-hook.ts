/**
 * Follows a request through Express's routers and records the matched route template.
 *
 * Why this is needed: at the end of a request `req.baseUrl` is the concrete mount path
 * (`/users/7`), so `baseUrl + req.route.path` leaks ids into the label. The mount templates
 * exist only on the router layers the request passed through. So the layer's request method
 * (`handle_request` in Express 4, `handleRequest` in Express 5) is wrapped, once per Express
 * copy: when an instrumented request enters a mount layer, the layer's template is appended to
 * the request's prefix (and removed again if the mounted router hands the request back through
 * `next`); when it enters a route, `prefix + route.path` is stored as the request's route.
 *
 * Contract: requests without promfork state (other apps, requests before the middleware) pass
 * through untouched; the wrapper never throws (template errors are reported and the layer still
 * runs); the route is fixed at the moment the route is entered, so errors that bubble up to an
 * app-level error handler keep the full template.
 */
import { joinRoute } from '@promfork/core';
import { type LayerLike, mountTemplate, paramTemplate, routeTemplate } from './layer-template.js';

/** Per-request routing state, stored on `req` under {@link kRouting}. */
export interface RoutingState {
  /** Template of the mounts the request is inside, e.g. `/users/:userId`. */
  prefix: string;
  /** Full template of the last route entered; undefined until a route matches. */
  route: string | undefined;
  /** Where template errors go (the request's instrumentation `onError`). */
  readonly report: (error: Error) => void;
}

/** Property under which a request carries its {@link RoutingState}. Shared by every copy. */
export const kRouting: unique symbol = Symbol.for('promfork.express.routing') as never;

const kPatched = Symbol.for('promfork.express.patched');
const kJoined = Symbol.for('promfork.express.joined');

type Next = (err?: unknown) => void;
type HandleFn = (this: LayerLike, req: object, res: object, next: Next) => unknown;
type RoutedRequest = { [kRouting]?: RoutingState };

/** `prefix` joined with `template`, memoised per layer (prefixes are templates: few). */
function joined(owner: object, prefix: string, template: string): string {
  const holder = owner as { [kJoined]?: Map<string, string> };
  let cache = holder[kJoined];
  if (cache === undefined) {
    cache = new Map();
    holder[kJoined] = cache;
  }
  let full = cache.get(prefix);
  if (full === undefined) {
    full = joinRoute(prefix, template);
    // A bounded cache: prefixes come from templates, but a fallback template could vary.
    if (cache.size < 1000) cache.set(prefix, full);
  }
  return full;
}

function wrap(original: HandleFn): HandleFn {
  return function promforkLayer(this: LayerLike, req, res, next) {
    const state = (req as RoutedRequest)[kRouting];
    // Route-internal layers (one per HTTP method handler) carry `method`; they add nothing.
    if (state === undefined || 'method' in this) return original.call(this, req, res, next);
    let template: string | undefined;
    try {
      const route = this.route;
      if (route !== undefined) {
        state.route = joined(this, state.prefix, routeTemplate(route));
        return original.call(this, req, res, next);
      }
      template = mountTemplate(this) ?? paramTemplate(this);
    } catch (error) {
      state.report(error as Error);
    }
    if (template === undefined || template === '') return original.call(this, req, res, next);
    const saved = state.prefix;
    state.prefix = joined(this, saved, template);
    return original.call(this, req, res, (err?: unknown) => {
      state.prefix = saved;
      next(err);
    });
  };
}

/** Wraps the request method of the Layer class `layer` belongs to, unless already done. */
export function hookLayers(layer: object | undefined): void {
  if (layer === undefined || layer === null) return;
  const proto = Object.getPrototypeOf(layer) as Record<string | symbol, unknown> | null;
  if (proto === null || proto[kPatched] === true) return;
  const name =
    typeof proto.handleRequest === 'function'
      ? 'handleRequest'
      : typeof proto.handle_request === 'function'
        ? 'handle_request'
        : undefined;
  if (name === undefined) return;
  proto[name] = wrap(proto[name] as HandleFn);
  proto[kPatched] = true;
}
