/**
 * The exact route template of a request, read at its end from state Express already keeps
 * (`req.route`, the last route the request entered) plus the templates of the mounts the
 * request went through, which only the mount layers know.
 *
 * Why not one wrapper on every layer: a wrapper on the Layer class runs for every layer every
 * request passes (middleware, route layers, the per-method layers inside routes), and that was
 * most of what the adapter added to a request. Here only the layers that mount a router at a
 * path other than `/` get a wrapper, as an own property of that one layer object; everything
 * else runs as Express wrote it. The layers are found by walking the app's router once (at the
 * first request) and every router mounted in it; later additions are seen by a wrapper on each
 * walked stack's `push` (how Express 4 and 5 add layers).
 *
 * A mount wrapper opens a {@link Frame} (the joined template, and `req.route` as it was on the
 * way in) and closes it when the mounted router hands the request back through `next`. At the
 * end of the request the route's template is joined to the prefix of the innermost open frame
 * entered before that route was; a route entered inside a frame that has since closed (an error
 * passed up to an app-level handler, say) was fixed when the frame closed.
 *
 * Sub-apps (`app.use(path, otherApp)`) are reached through a closure Express does not expose,
 * so their routers cannot be walked: when one is found, the Layer class of that Express copy
 * gets the wrapper of every layer instead (layer-hook.ts), and the per-layer wrappers of this
 * module step aside.
 *
 * Contract: requests without promfork state pass through untouched; nothing here throws into a
 * request (template errors are reported and the layer still runs).
 */
import { joinRoute } from '@promfork/core';
import { type LayerLike, mountTemplate, paramTemplate, routeTemplate } from './layer-template.js';

/** A mount the request is inside. */
export interface Frame {
  /** Template of every mount up to and including this one, e.g. `/users/:userId`. */
  readonly prefix: string;
  /** `req.route` when the request entered the mount. */
  readonly routeAtEntry: unknown;
  readonly parent: Frame | undefined;
}

/** The frame of a request outside every mount. */
export const ROOT_FRAME: Frame = { prefix: '', routeAtEntry: undefined, parent: undefined };

/** Per-request routing state, stored on `req` under {@link kRouting}. */
export interface RoutingState {
  /** The innermost mount the request is inside. */
  frame: Frame;
  /** Template fixed for the route object {@link fixedFor}. */
  route: string | undefined;
  /** The route object whose template is {@link route}. */
  fixedFor: unknown;
  /** Where template errors go (the request's instrumentation `onError`). */
  readonly report: (error: Error) => void;
}

/** Property under which a request carries its {@link RoutingState}. Shared by every copy. */
export const kRouting: unique symbol = Symbol.for('promfork.express.routing') as never;

const kWalked = Symbol.for('promfork.express.walked');
const kJoined = Symbol.for('promfork.express.joined');

type Next = (err?: unknown) => void;
type HandleFn = (this: LayerLike, req: object, res: object, next: Next) => unknown;
type RoutedRequest = { [kRouting]?: RoutingState; route?: unknown };
type RouterLike = { stack: LayerLike[] } & Record<symbol, unknown>;
type Handle = ((...args: unknown[]) => unknown) & { stack?: unknown; name?: string };

/** `prefix` joined with `template`, memoised on `owner` (prefixes are templates: few). */
export function joined(owner: object, prefix: string, template: string): string {
  if (prefix === '') return template;
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

/**
 * The template of the route the request last entered, joined to the mounts it was entered
 * under; undefined when no route matched.
 */
export function templateAtEnd(state: RoutingState, req: object): string | undefined {
  const route = (req as RoutedRequest).route;
  if (route === undefined || route === null) return undefined;
  if (route === state.fixedFor) return state.route;
  let frame = state.frame;
  // A frame whose request already had this route on the way in was entered after it.
  while (frame.parent !== undefined && frame.routeAtEntry === route) frame = frame.parent;
  return joined(route, frame.prefix, routeTemplate(route as { path?: unknown }));
}

/**
 * Opens the frame of a request entering the mount `layer` (its `template` joined to the
 * prefix of the frame it is in) and makes it the request's innermost frame.
 */
export function openFrame(
  state: RoutingState,
  layer: object,
  template: string,
  routeAtEntry: unknown,
): Frame {
  const parent = state.frame;
  const frame: Frame = { prefix: joined(layer, parent.prefix, template), routeAtEntry, parent };
  state.frame = frame;
  return frame;
}

/** Closes `frame`, first fixing the template of a route entered inside it. */
function leave(state: RoutingState, frame: Frame, req: RoutedRequest): void {
  const route = req.route;
  if (route !== undefined && route !== frame.routeAtEntry && route !== state.fixedFor) {
    state.route = joined(route as object, frame.prefix, routeTemplate(route as { path?: unknown }));
    state.fixedFor = route;
  }
  state.frame = frame.parent ?? ROOT_FRAME;
}

/** One Express copy's bookkeeping: which walk mode it is in and the layers wrapped. */
interface Copy {
  /** True once a sub-app was found: the Layer class wrapper (layer-hook.ts) does the work. */
  wholeClass: boolean;
  /** Own-property wrappers installed, removed when switching to the whole class. */
  readonly wrapped: LayerLike[];
  readonly methodName: 'handleRequest' | 'handle_request';
  readonly useWholeClass: () => void;
}

function mountWrapper(copy: Copy, original: HandleFn, fixed: string | undefined): HandleFn {
  return function promforkMount(this: LayerLike, req, res, next) {
    const state = (req as RoutedRequest)[kRouting];
    if (state === undefined || copy.wholeClass) return original.call(this, req, res, next);
    let template = fixed;
    if (template === undefined) {
      try {
        template = paramTemplate(this);
      } catch (error) {
        state.report(error as Error);
      }
      if (template === undefined || template === '') return original.call(this, req, res, next);
    }
    const frame = openFrame(state, this, template, (req as RoutedRequest).route);
    return original.call(this, req, res, (err?: unknown) => {
      leave(state, frame, req as RoutedRequest);
      next(err);
    });
  };
}

function hookLayer(copy: Copy, layer: LayerLike, report: (error: Error) => void): void {
  if (copy.wholeClass || layer.route !== undefined) return;
  const handle = (layer as { handle?: Handle }).handle;
  if (typeof handle !== 'function') return;
  if (handle.name === 'mounted_app') {
    copy.useWholeClass();
    return;
  }
  if (!Array.isArray(handle.stack)) return; // plain middleware: no route below it
  walk(copy, handle as unknown as RouterLike, report);
  if (copy.wholeClass) return;
  let template: string | undefined;
  try {
    template = mountTemplate(layer);
  } catch (error) {
    report(error as Error);
    return;
  }
  if (template === '') return; // mounted at `/`: adds nothing to the prefix
  const original = (layer as unknown as Record<string, HandleFn>)[copy.methodName] as HandleFn;
  hide(layer, copy.methodName, mountWrapper(copy, original, template));
  copy.wrapped.push(layer);
}

function walk(copy: Copy, router: RouterLike, report: (error: Error) => void): void {
  if (router[kWalked] === true) return;
  router[kWalked] = true;
  const stack = router.stack;
  for (const layer of stack) hookLayer(copy, layer, report);
  const push = stack.push;
  // Express adds every layer with `stack.push(layer)`: later routers are walked as they come.
  hide(stack, 'push', function promforkPush(this: LayerLike[], ...layers: LayerLike[]): number {
    const length = push.apply(this, layers);
    for (const layer of layers) {
      try {
        hookLayer(copy, layer, report);
      } catch (error) {
        report(error as Error);
      }
    }
    return length;
  });
}

/** Sets an own property that enumerations (`for...in`, `Object.keys`, copies) do not see. */
function hide(target: object, key: string, value: unknown): void {
  Object.defineProperty(target, key, {
    value,
    writable: true,
    configurable: true,
    enumerable: false,
  });
}

const copies = new WeakMap<object, Copy>();

/**
 * Walks `router` (an app's router) and the routers mounted in it, wrapping the mount layers;
 * `wholeClass` is called (once per Express copy) when a sub-app is found and the Layer class
 * must be wrapped instead. Safe to call again for the same or another app.
 */
export function hookRouter(
  router: unknown,
  wholeClass: (layerProto: object) => void,
  report: (error: Error) => void,
): void {
  const stack = (router as { stack?: unknown } | undefined)?.stack;
  if (!Array.isArray(stack) || stack.length === 0) return;
  const proto = Object.getPrototypeOf(stack[0]) as Record<string, unknown> | null;
  if (proto === null) return;
  let copy = copies.get(proto);
  if (copy === undefined) {
    const methodName =
      typeof proto.handleRequest === 'function'
        ? 'handleRequest'
        : typeof proto.handle_request === 'function'
          ? 'handle_request'
          : undefined;
    if (methodName === undefined) return;
    const created: Copy = {
      wholeClass: false,
      wrapped: [],
      methodName,
      useWholeClass: () => {
        if (created.wholeClass) return;
        created.wholeClass = true;
        for (const layer of created.wrapped) {
          delete (layer as unknown as Record<string, unknown>)[methodName];
        }
        created.wrapped.length = 0;
        wholeClass(proto);
      },
    };
    copy = created;
    copies.set(proto, copy);
  }
  walk(copy, router as RouterLike, report);
}
