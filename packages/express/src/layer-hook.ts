/**
 * The fallback of mount-hook.ts for apps with sub-apps (whose routers cannot be walked): the
 * request method of the Layer class (`handle_request` in Express 4, `handleRequest` in
 * Express 5) is wrapped, once per Express copy, so every layer a request passes is seen. When
 * an instrumented request enters a mount layer, a frame with the layer's template is opened
 * (and closed again if the mounted router hands the request back through `next`); when it
 * enters a route, `prefix + route.path` is fixed as the template of that route object.
 *
 * Contract: requests without promfork state (other apps, requests before the middleware) pass
 * through untouched; the wrapper never throws (template errors are reported and the layer still
 * runs); the route is fixed at the moment the route is entered, so errors that bubble up to an
 * app-level error handler keep the full template.
 */
import { type LayerLike, mountTemplate, paramTemplate, routeTemplate } from './layer-template.js';
import { joined, kRouting, openFrame, type RoutingState } from './mount-hook.js';

const kPatched = Symbol.for('promfork.express.patched');

type Next = (err?: unknown) => void;
type HandleFn = (this: LayerLike, req: object, res: object, next: Next) => unknown;
type RoutedRequest = { [kRouting]?: RoutingState };

function wrap(original: HandleFn): HandleFn {
  return function promforkLayer(this: LayerLike, req, res, next) {
    const state = (req as RoutedRequest)[kRouting];
    // Route-internal layers (one per HTTP method handler) carry `method`; they add nothing.
    if (state === undefined || 'method' in this) return original.call(this, req, res, next);
    let template: string | undefined;
    try {
      const route = this.route;
      if (route !== undefined) {
        state.route = joined(this, state.frame.prefix, routeTemplate(route));
        state.fixedFor = route;
        return original.call(this, req, res, next);
      }
      template = mountTemplate(this) ?? paramTemplate(this);
    } catch (error) {
      state.report(error as Error);
    }
    if (template === undefined || template === '') return original.call(this, req, res, next);
    const parent = state.frame;
    openFrame(state, this, template, undefined);
    return original.call(this, req, res, (err?: unknown) => {
      state.frame = parent;
      next(err);
    });
  };
}

/** Wraps the request method of the Layer class `proto` (a Layer prototype), unless done. */
export function hookLayerClass(layerProto: object): void {
  const proto = layerProto as Record<string | symbol, unknown>;
  if (proto[kPatched] === true) return;
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
