/**
 * A Prometheus Pushgateway client with prom-client's API, for batch jobs and cron workers that
 * end before anything could scrape them.
 *
 * What is pushed is a registry's scrape in Prometheus text format 0.0.4 (the format the
 * gateway parses, whatever the registry's own content type). With a file store that is the
 * merged metrics of every process file in the directory, so one process (the parent of a
 * multi-process job, or its last worker) pushes the job's totals.
 *
 * Argument and option errors throw synchronously, as prom-client's do; request failures
 * reject with a {@link PushgatewayError}: PROMFORK_PUSHGATEWAY_TIMEOUT,
 * PROMFORK_PUSHGATEWAY_UNREACHABLE or PROMFORK_PUSHGATEWAY_STATUS (any status outside 2xx;
 * prom-client resolved 3xx). Redirects are not followed.
 */
import * as http from 'node:http';
import * as https from 'node:https';
import { promisify } from 'node:util';
import { gzip } from 'node:zlib';
import { describeValue, type ErrorCode, InvalidOptionError, PushgatewayError } from './errors.js';
import { PROMETHEUS_CONTENT_TYPE } from './exposition/index.js';
import { type PushgatewayGroupings, pushgatewayPath } from './pushgateway-path.js';
import { type Registry, register } from './registry.js';
import { assertOptionKeys, invalidOption } from './validation.js';

const gzipAsync = promisify(gzip);

/** Options of {@link Pushgateway} (the second constructor argument). */
export interface PushgatewayOptions {
  /**
   * Milliseconds a request may take from connecting until the whole answer is read; then it is
   * aborted and rejects with PROMFORK_PUSHGATEWAY_TIMEOUT. `0` waits forever (prom-client's
   * default, which can hang a batch job on a silent gateway).
   * @default 10000
   */
  timeout?: number;
  /**
   * Extra request headers (authorization, a tenant id). `Content-Encoding: gzip` compresses
   * the pushed body, as in prom-client; no other content encoding is accepted.
   * @default {}
   */
  headers?: Readonly<Record<string, string | number | readonly string[]>>;
  /**
   * The `http.Agent` / `https.Agent` for the requests: connection reuse, TLS settings such as
   * a private CA. `false` uses a new connection per request.
   * @default the global agent of node:http or node:https
   */
  agent?: PushgatewayAgent | false;
  /**
   * Whether `jobName` is required. Some gateways (Gravel Gateway, for example) have no job
   * grouping and take pushes at `/metrics`; set `false` for those and omit `jobName`.
   * @default true
   */
  requireJobName?: boolean;
}

/** What to push to, delete or add to: the job and its further grouping labels. */
export interface PushgatewayParameters {
  /** The job name: the `job` label of every pushed series and the first part of the group. */
  jobName?: string;
  /**
   * Further grouping labels (e.g. `{ instance: 'db-backup' }`). Each becomes a label on every
   * pushed series, overwriting a label of that name the series had.
   * @default {}
   */
  groupings?: PushgatewayGroupings;
}

/**
 * An `http.Agent` or `https.Agent` (checked when the Pushgateway is created). Typed without
 * Node's types, so that the package's declarations compile in projects without @types/node.
 */
export type PushgatewayAgent = object;

/** A gateway URL: a string, or a WHATWG `URL` (anything with an absolute `href`). */
export type PushgatewayUrl = string | { readonly href: string };

/**
 * The gateway's answer: node:http's `IncomingMessage` (fully read), typed by the fields
 * promfork promises so that its declarations need no Node types.
 */
export interface PushgatewayHttpResponse {
  readonly statusCode?: number | undefined;
  readonly statusMessage?: string | undefined;
  readonly headers: Readonly<Record<string, string | string[] | undefined>>;
}

/** What a successful request resolves with (prom-client's shape). */
export interface PushgatewayResponse {
  /** The gateway's answer, fully read (an `http.IncomingMessage`). */
  resp: PushgatewayHttpResponse;
  /** Its body as UTF-8 text (empty for a successful push). */
  body: string;
}

const OPTION_KEYS: readonly string[] = ['timeout', 'headers', 'agent', 'requireJobName'];
const DEFAULT_TIMEOUT_MS = 10_000;
/** How much of an error answer's body a message quotes. */
const MESSAGE_BODY_CHARS = 200;

/** Parses and checks the gateway URL: http or https, no query or fragment. */
function parseGatewayUrl(value: unknown): URL {
  const where = 'new Pushgateway()';
  const href =
    typeof value === 'string'
      ? value
      : typeof value === 'object' && value !== null && typeof (value as URL).href === 'string'
        ? (value as URL).href
        : undefined;
  if (href === undefined) {
    invalidOption(where, 'url', value, 'the gateway URL as a string, e.g. "http://127.0.0.1:9091"');
  }
  let url: URL;
  try {
    url = new URL(href);
  } catch {
    invalidOption(where, 'url', String(value), 'an absolute URL, e.g. "http://127.0.0.1:9091"');
  }
  if (url.protocol !== 'http:' && url.protocol !== 'https:') {
    invalidOption(where, 'url', String(value), 'an http: or https: URL');
  }
  if (url.search !== '' || url.hash !== '') {
    invalidOption(where, 'url', String(value), 'a URL without query or fragment');
  }
  return url;
}

/** Checks the headers option; returns a copy keyed in lower case (HTTP names are case-free). */
function parseHeaders(value: unknown): Map<string, string | number | readonly string[]> {
  const where = 'new Pushgateway()';
  const out = new Map<string, string | number | readonly string[]>();
  if (value === undefined) return out;
  if (typeof value !== 'object' || value === null || Array.isArray(value)) {
    invalidOption(where, 'headers', value, 'an object of header names to values');
  }
  for (const [name, headerValue] of Object.entries(value)) {
    const ok =
      typeof headerValue === 'string' ||
      (typeof headerValue === 'number' && Number.isFinite(headerValue)) ||
      (Array.isArray(headerValue) && headerValue.every((v) => typeof v === 'string'));
    if (!ok) {
      invalidOption(where, `headers.${name}`, headerValue, 'a string, a number or strings');
    }
    out.set(name.toLowerCase(), headerValue as string | number | readonly string[]);
  }
  const encoding = out.get('content-encoding');
  if (encoding !== undefined && !['gzip', 'identity'].includes(String(encoding).toLowerCase())) {
    invalidOption(where, 'headers.Content-Encoding', encoding, '"gzip" or "identity"');
  }
  return out;
}

/** `url` as shown in messages and errors: without user name or password. */
function displayUrl(url: URL): string {
  const shown = new URL(url);
  shown.username = '';
  shown.password = '';
  return shown.href;
}

/**
 * Pushes a registry's metrics to a Prometheus Pushgateway, prom-client compatible:
 * `new Pushgateway(url, options?, registry?)`, then `push`, `pushAdd` or `delete` with
 * `{ jobName, groupings }`, each resolving with `{ resp, body }`.
 *
 * - `push` (HTTP PUT) replaces every metric of the group with the pushed ones.
 * - `pushAdd` (HTTP POST) replaces only the metrics of the group that have the same names as
 *   pushed ones; the others stay.
 * - `delete` (HTTP DELETE) removes the group.
 *
 * `url` is the gateway's base (`http://host:9091`, or with a path prefix if it is served
 * under one); `/metrics/job/...` is appended. The registry defaults to `register`, which with
 * `PROMETHEUS_MULTIPROC_DIR` set renders the merged metrics of every process in the directory.
 */
export class Pushgateway {
  /** The registry whose metrics are pushed. */
  readonly registry: Registry;
  private readonly base: URL;
  private readonly basePath: string;
  private readonly timeoutMs: number;
  private readonly headers: Map<string, string | number | readonly string[]>;
  private readonly agent: http.Agent | false | undefined;
  private readonly requireJobName: boolean;

  constructor(
    url: PushgatewayUrl,
    options: PushgatewayOptions | null = {},
    registry: Registry | null = register,
  ) {
    const where = 'new Pushgateway()';
    // `null` means "not given", as prom-client code writes `new Pushgateway(url, null, registry)`.
    options ??= {};
    registry ??= register;
    this.base = parseGatewayUrl(url);
    // A path prefix (a gateway behind a proxy path) is kept; trailing slashes would double up.
    this.basePath = this.base.pathname.replace(/\/+$/, '');
    assertOptionKeys(options as unknown, OPTION_KEYS, where);
    const timeout = options.timeout ?? DEFAULT_TIMEOUT_MS;
    if (typeof timeout !== 'number' || !Number.isFinite(timeout) || timeout < 0) {
      invalidOption(where, 'timeout', timeout, 'a finite number of milliseconds >= 0 (0: none)');
    }
    this.timeoutMs = timeout;
    this.headers = parseHeaders(options.headers);
    const agent = options.agent;
    if (agent !== undefined && agent !== false && !(agent instanceof http.Agent)) {
      invalidOption(where, 'agent', agent, 'an http.Agent or https.Agent, or false');
    }
    this.agent = agent as http.Agent | false | undefined;
    const requireJobName = options.requireJobName ?? true;
    if (typeof requireJobName !== 'boolean') {
      invalidOption(where, 'requireJobName', requireJobName, 'a boolean');
    }
    this.requireJobName = requireJobName;
    if (typeof registry?.scrape !== 'function') {
      invalidOption(where, 'registry', registry, 'a Registry');
    }
    this.registry = registry;
  }

  /**
   * Replaces every metric of the group with this registry's metrics (HTTP PUT). Throws
   * synchronously for bad parameters; rejects with a {@link PushgatewayError} when the request
   * fails.
   */
  push(params: PushgatewayParameters = {}): Promise<PushgatewayResponse> {
    return this.send('PUT', params);
  }

  /**
   * Adds this registry's metrics to the group (HTTP POST): metrics of the group with the same
   * names as pushed ones are replaced, the rest stay. Errors as {@link Pushgateway.push}.
   */
  pushAdd(params: PushgatewayParameters = {}): Promise<PushgatewayResponse> {
    return this.send('POST', params);
  }

  /** Deletes every metric of the group (HTTP DELETE). Errors as {@link Pushgateway.push}. */
  delete(params: PushgatewayParameters = {}): Promise<PushgatewayResponse> {
    return this.send('DELETE', params);
  }

  /**
   * The full URL a request for `params` goes to (credentials of the base URL included).
   * Throws for bad parameters exactly as the request methods do.
   */
  urlFor(params: PushgatewayParameters = {}): { readonly href: string; readonly pathname: string } {
    if (typeof params !== 'object' || params === null || Array.isArray(params)) {
      throw new InvalidOptionError(
        'PROMFORK_INVALID_OPTION',
        `Pushgateway: expected parameters { jobName, groupings }, got ${describeValue(params)}`,
      );
    }
    assertOptionKeys(params as unknown, ['jobName', 'groupings'], 'Pushgateway parameters');
    const { jobName, groupings } = params;
    if (jobName !== undefined && typeof jobName !== 'string') {
      invalidOption('Pushgateway', 'jobName', jobName, 'a non-empty string');
    }
    // An empty job name counts as none, as in prom-client; the gateway has no empty jobs.
    const job = jobName === '' ? undefined : jobName;
    if (job === undefined && this.requireJobName) {
      throw new InvalidOptionError(
        'PROMFORK_MISSING_OPTION',
        'Pushgateway: missing "jobName"; pass { jobName } (or create the Pushgateway with ' +
          'requireJobName: false for a gateway without job grouping)',
      );
    }
    const url = new URL(this.base);
    url.pathname = this.basePath + pushgatewayPath(job, groupings);
    return url;
  }

  private send(method: 'PUT' | 'POST' | 'DELETE', params: PushgatewayParameters) {
    const url = new URL(this.urlFor(params).href);
    return this.request(method, url);
  }

  private async request(method: 'PUT' | 'POST' | 'DELETE', url: URL): Promise<PushgatewayResponse> {
    const headers: http.OutgoingHttpHeaders = {};
    for (const [name, value] of this.headers) headers[name] = value as string | number | string[];
    let body: Buffer | undefined;
    if (method === 'DELETE') {
      delete headers['content-encoding'];
      delete headers['content-type'];
    } else {
      // Text 0.0.4 whatever the registry's content type: the gateway does not parse OpenMetrics.
      const scrape = await this.registry.scrape(PROMETHEUS_CONTENT_TYPE);
      body =
        typeof scrape.body === 'string'
          ? Buffer.from(scrape.body, 'utf8')
          : Buffer.from(scrape.body);
      if (String(headers['content-encoding'] ?? '').toLowerCase() === 'gzip') {
        body = await gzipAsync(body);
      }
      headers['content-type'] ??= scrape.contentType;
    }
    headers['content-length'] = body?.length ?? 0;
    return exchange(method, url, headers, body, this.agent, this.timeoutMs);
  }
}

/** One HTTP request and its whole answer, bounded by `timeoutMs` (0: unbounded). */
function exchange(
  method: string,
  url: URL,
  headers: http.OutgoingHttpHeaders,
  body: Buffer | undefined,
  agent: http.Agent | false | undefined,
  timeoutMs: number,
): Promise<PushgatewayResponse> {
  const shown = displayUrl(url);
  return new Promise((resolve, reject) => {
    let settled = false;
    let timer: ReturnType<typeof setTimeout> | undefined;
    const fail = (
      code: ErrorCode,
      what: string,
      extra: { statusCode?: number; body?: string; cause?: unknown } = {},
    ) => {
      if (settled) return;
      settled = true;
      clearTimeout(timer);
      reject(
        new PushgatewayError(code, `Pushgateway ${method} ${shown} ${what}`, {
          method,
          url: shown,
          ...extra,
        }),
      );
    };
    const transport = url.protocol === 'https:' ? https : http;
    const req = transport.request(url, { method, headers, agent }, (resp) => {
      const chunks: Buffer[] = [];
      resp.on('data', (chunk: Buffer) => chunks.push(chunk));
      resp.on('error', (error) =>
        fail('PROMFORK_PUSHGATEWAY_UNREACHABLE', `failed: ${error.message}`, { cause: error }),
      );
      resp.on('end', () => {
        const text = Buffer.concat(chunks).toString('utf8');
        const status = resp.statusCode ?? 0;
        if (status >= 200 && status < 300) {
          if (settled) return;
          settled = true;
          clearTimeout(timer);
          resolve({ resp, body: text });
          return;
        }
        const quoted =
          text.length > MESSAGE_BODY_CHARS ? `${text.slice(0, MESSAGE_BODY_CHARS)}...` : text;
        fail(
          'PROMFORK_PUSHGATEWAY_STATUS',
          `was answered with HTTP ${status} ${resp.statusMessage ?? ''}`.trimEnd() +
            (quoted.trim() === '' ? '' : `: ${quoted.trim()}`),
          { statusCode: status, body: text },
        );
      });
    });
    if (timeoutMs > 0) {
      timer = setTimeout(() => {
        fail(
          'PROMFORK_PUSHGATEWAY_TIMEOUT',
          `got no complete answer within ${timeoutMs} ms and was aborted`,
        );
        req.destroy();
      }, timeoutMs);
    }
    req.on('error', (error) => {
      // Node's connect errors already name their code ("connect ECONNREFUSED ..."); others may not.
      const code = 'code' in error && typeof error.code === 'string' ? error.code : '';
      const detail = code !== '' && !error.message.includes(code) ? ` (${code})` : '';
      fail('PROMFORK_PUSHGATEWAY_UNREACHABLE', `failed: ${error.message}${detail}`, {
        cause: error,
      });
    });
    req.end(body);
  });
}

/** prom-client's type names, so `Pushgateway.Parameters` keeps compiling after migrating. */
export declare namespace Pushgateway {
  /** The same as {@link PushgatewayParameters}. */
  type Parameters = PushgatewayParameters;
}
