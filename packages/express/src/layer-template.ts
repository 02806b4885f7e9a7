/**
 * The route template a single Express router layer stands for, as it was written by the user
 * (`/users`, `/:userId`, `/posts/:postId`), never the concrete path it matched.
 *
 * Express keeps the template of a route (`route.path`) but not of a mount (`app.use('/users',
 * router)`): Express 5's router (>= 2.3) keeps it as `layer.rawPath`; Express 4 keeps only the
 * RegExp it compiled, so the template is read back from that RegExp's source (path-to-regexp
 * 0.1 output has a fixed shape). Anything that cannot be read back exactly (a RegExp the user
 * wrote, an unusual pattern) is labelled with the RegExp's own text: still one value per
 * layer, so cardinality stays bounded. Results are cached on the layer (or route) object.
 */
import { patternTemplate } from '@promfork/core';

/** The parts of an Express 4 / Express 5 router layer this module reads. */
export interface LayerLike {
  /** Express 5 (router >= 2.3): the path given to `use`/`route`. */
  readonly rawPath?: unknown;
  /** Express 4: the compiled pattern. */
  readonly regexp?: unknown;
  /** Express 4: one entry per capture group of `regexp`. */
  readonly keys?: readonly { readonly name: string | number }[];
  /** Express 4 and router < 2.3: the concrete path the last match consumed. */
  readonly path?: unknown;
  /** Express 4 and router < 2.3: the parameters of the last match. */
  readonly params?: unknown;
  /** Set on the layer that dispatches to a Route. */
  readonly route?: { readonly path?: unknown } | undefined;
}

const kTemplate = Symbol.for('promfork.express.template');

type Cached = { [kTemplate]?: string | null };

/** Template of a route or mount path value as the user wrote it: string, RegExp, or array. */
function templateOf(pattern: unknown): string {
  return patternTemplate(pattern) ?? String(pattern);
}

/**
 * Template of the layer that dispatches to a route: `route.path` as written. Arrays are
 * labelled with their entries joined by `|` (one route, one label).
 */
export function routeTemplate(route: { readonly path?: unknown }): string {
  const cached = (route as Cached)[kTemplate];
  if (typeof cached === 'string') return cached;
  const template = templateOf(route.path);
  (route as Cached)[kTemplate] = template;
  return template;
}

/**
 * Template of a mount layer (`use(path, ...)`), `''` for a mount at `/` (the common case of
 * global middleware). Returns undefined only for Express 5 with router < 2.3, which keeps
 * neither the path nor the RegExp; the caller then falls back to {@link paramTemplate}.
 */
export function mountTemplate(layer: LayerLike): string | undefined {
  const cached = (layer as Cached)[kTemplate];
  if (cached !== undefined) return cached === null ? undefined : cached;
  let template: string | undefined;
  if ('rawPath' in layer) {
    template = mountPattern(layer.rawPath);
  } else if (layer.regexp instanceof RegExp) {
    template = readExpress4Mount(layer.regexp, layer.keys ?? []);
  }
  (layer as Cached)[kTemplate] = template === undefined ? null : template;
  return template;
}

/** Template of a mount path as written: strings trimmed (see trimMount), arrays per entry. */
function mountPattern(pattern: unknown): string {
  if (typeof pattern === 'string') return trimMount(pattern);
  if (Array.isArray(pattern)) return pattern.map((p) => mountPattern(p) || '/').join('|');
  return templateOf(pattern);
}

/** `/` and a trailing slash add nothing to a mount prefix (Express strips both from baseUrl). */
function trimMount(template: string): string {
  if (template === '/') return '';
  return template.length > 1 && template.endsWith('/') ? template.slice(0, -1) : template;
}

// Every mount RegExp Express 4 compiles (strict: false, end: false) ends with this.
const EXPRESS4_MOUNT_END = '\\/?(?=\\/|$)';

/**
 * Reads an Express 4 mount template back from path-to-regexp 0.1's output, e.g.
 * `^\/users(?:\/([^/]+?))\/?(?=\/|$)` with keys `[id]` gives `/users/:id`. Array mounts are
 * alternatives joined by `|` and come back as `/a|/b`. A RegExp the user wrote, or any shape
 * this reader does not know, is labelled with the RegExp's text.
 */
export function readExpress4Mount(
  regexp: RegExp,
  keys: readonly { readonly name: string | number }[],
): string {
  const fallback = String(regexp);
  const alternatives = splitTopLevel(regexp.source);
  if (alternatives === undefined) return fallback;
  const parts: string[] = [];
  let keyIndex = 0;
  for (const alt of alternatives) {
    if (!alt.startsWith('^') || !alt.endsWith(EXPRESS4_MOUNT_END)) return fallback;
    const body = alt.slice(1, alt.length - EXPRESS4_MOUNT_END.length);
    const read = readBody(body, keys, keyIndex);
    if (read === undefined) return fallback;
    keyIndex = read.nextKey;
    parts.push(trimMount(read.template === '' ? '/' : read.template));
  }
  if (keyIndex !== keys.length) return fallback;
  return parts.join('|');
}

/**
 * Walks a RegExp source and reports every `(`, `)` and `|` that is syntax: escaped characters
 * and character classes are skipped. `visit` gets the character, its index and the group depth
 * before it; returning false stops the walk. Returns the depth at the end (or at the stop),
 * -1 when a `)` closes nothing or a class is left open.
 */
function scanSyntax(
  source: string,
  from: number,
  visit: (c: '(' | ')' | '|', index: number, depth: number) => boolean,
): number {
  let depth = 0;
  let inClass = false;
  for (let i = from; i < source.length; i++) {
    const c = source[i];
    if (c === '\\') {
      i++;
    } else if (inClass) {
      if (c === ']') inClass = false;
    } else if (c === '[') {
      inClass = true;
    } else if (c === '(' || c === ')' || c === '|') {
      if (!visit(c, i, depth)) return depth;
      depth += c === '(' ? 1 : c === ')' ? -1 : 0;
      if (depth < 0) return -1;
    }
  }
  return inClass ? -1 : depth;
}

/** Splits a RegExp source on `|` outside groups and classes; undefined if unbalanced. */
function splitTopLevel(source: string): string[] | undefined {
  const parts: string[] = [];
  let start = 0;
  const depth = scanSyntax(source, 0, (c, i, d) => {
    if (c === '|' && d === 0) {
      parts.push(source.slice(start, i));
      start = i + 1;
    }
    return true;
  });
  if (depth !== 0) return undefined;
  parts.push(source.slice(start));
  return parts;
}

/** Index just past the `)` closing the group opened at `open`; -1 if unbalanced. */
function groupEnd(source: string, open: number): number {
  let end = -1;
  scanSyntax(source, open, (c, i, d) => {
    if (c === ')' && d === 1) end = i + 1;
    return end < 0;
  });
  return end;
}

/** Number of capturing groups in a RegExp source fragment. */
function countCaptures(fragment: string): number {
  let count = 0;
  scanSyntax(fragment, 0, (c, i) => {
    if (c === '(' && fragment[i + 1] !== '?') count++;
    return true;
  });
  return count;
}

/**
 * Reads one alternative of path-to-regexp 0.1 output back into a template. Known shapes:
 * escaped literals (`\/`, `\.`), plain literals, a parameter group `(?:\/(capture))` optionally
 * followed by `?` (optional) and with an extra capture for `:name*`, and `(.*)` for `*`.
 */
function readBody(
  body: string,
  keys: readonly { readonly name: string | number }[],
  firstKey: number,
): { template: string; nextKey: number } | undefined {
  let out = '';
  let key = firstKey;
  for (let i = 0; i < body.length; ) {
    const c = body[i] as string;
    if (c === '\\') {
      const next = body[i + 1];
      if (next === undefined || /[a-zA-Z0-9]/.test(next)) return undefined; // \d, \w: a class
      out += next;
      i += 2;
    } else if (body.startsWith('(?:', i)) {
      const end = groupEnd(body, i);
      if (end < 0) return undefined;
      const inner = body.slice(i + 3, end - 1);
      const captures = countCaptures(inner);
      const param = keys[key];
      if (captures === 0 || param === undefined || typeof param.name !== 'string') {
        return undefined;
      }
      const lead = inner.startsWith('\\/') ? '/' : inner.startsWith('\\.') ? '.' : '';
      out += `${lead}:${param.name}${captures > 1 ? '*' : ''}`;
      key += captures;
      i = end;
      if (body[i] === '?') {
        out += '?';
        i++;
      }
    } else if (body.startsWith('(.*)', i)) {
      if (keys[key] === undefined) return undefined;
      out += '*';
      key++;
      i += 4;
    } else if ('()[]{}|+*?.^$'.includes(c)) {
      return undefined;
    } else {
      out += c;
      i++;
    }
  }
  return { template: out, nextKey: key };
}

/**
 * Fallback for Express 5 with router < 2.3, which keeps neither the mount path nor its RegExp:
 * the concrete matched path with each parameter's segment replaced by `:name`. Exact for the
 * usual one-parameter-per-segment mounts; upgrade `router` for exact templates everywhere.
 */
export function paramTemplate(layer: LayerLike): string {
  const path = typeof layer.path === 'string' ? layer.path : '';
  const params = layer.params;
  if (typeof params !== 'object' || params === null) return trimMount(path);
  const segments = path.split('/');
  for (const [name, value] of Object.entries(params)) {
    if (typeof value !== 'string') continue;
    const encoded = encodeURIComponent(value);
    const at = segments.findIndex(
      (s, i) => i > 0 && (s === value || s === encoded) && !s.startsWith(':'),
    );
    if (at > 0) segments[at] = `:${name}`;
  }
  return trimMount(segments.join('/'));
}
