/**
 * The framework-neutral `/metrics` route: method check, authorisation, format negotiation
 * (Prometheus text, OpenMetrics or protobuf, from `Accept`), gzip (from `Accept-Encoding`) and the
 * response headers. Adapters only copy the returned status, headers and body onto their
 * framework's response.
 *
 * Contract: `handle` never rejects. A denied or throwing `authorize` gives 403, a failed scrape
 * gives 500; both report to `onError` and never reveal the error to the client.
 */
import { promisify } from 'node:util';
import { gzip as gzipCallback } from 'node:zlib';

const gzip = promisify(gzipCallback);

/** What a scrape gives: text, or bytes for the protobuf format. */
export interface ScrapeOutput {
  readonly contentType: string;
  readonly body: string | Uint8Array;
}

/** What the route needs from a registry: `registry.scrape(accept)`. */
export type Scrape = (accept: string | undefined) => ScrapeOutput | Promise<ScrapeOutput>;

/** A response for the adapter to send as is. */
export interface MetricsResponse {
  readonly status: number;
  readonly headers: Readonly<Record<string, string>>;
  /**
   * Empty for errors; adapters send it for HEAD too (every framework drops a HEAD body). A
   * gzipped body is a Node Buffer; it is typed as the Uint8Array it is, so that these
   * declarations need no Node types in a consumer's project.
   */
  readonly body: string | Uint8Array;
}

/** What the adapter read from its request. */
export interface MetricsRequest<Req> {
  /** The request method as received. */
  readonly method: string | undefined;
  /** The `Accept` header, if any. */
  readonly accept: string | undefined;
  /** The `Accept-Encoding` header, if any. */
  readonly acceptEncoding: string | undefined;
  /** The framework's request object, passed to `authorize`. */
  readonly req: Req;
}

/** Settings of a {@link MetricsRoute}, as validated by `resolveMetricsRouteOptions`. */
export interface MetricsRouteSettings<Req> {
  readonly scrape: Scrape;
  readonly authorize: ((req: Req) => boolean | Promise<boolean>) | undefined;
  readonly onError: (error: Error) => void;
}

const METHOD_NOT_ALLOWED: MetricsResponse = Object.freeze({
  status: 405,
  headers: Object.freeze({ allow: 'GET, HEAD', 'content-length': '0' }),
  body: '',
});
const FORBIDDEN: MetricsResponse = Object.freeze({
  status: 403,
  headers: Object.freeze({ 'content-length': '0' }),
  body: '',
});
const FAILED: MetricsResponse = Object.freeze({
  status: 500,
  headers: Object.freeze({ 'content-length': '0' }),
  body: '',
});

/**
 * True when an `Accept-Encoding` value accepts gzip: a `gzip` (or `x-gzip`) coding, or `*`,
 * with a q-value above 0. An explicit `gzip;q=0` wins over `*`.
 */
export function acceptsGzip(acceptEncoding: string | undefined): boolean {
  if (acceptEncoding === undefined || acceptEncoding === '') return false;
  let star = false;
  for (const part of acceptEncoding.split(',')) {
    const [coding = '', ...params] = part.split(';');
    const name = coding.trim().toLowerCase();
    if (name !== 'gzip' && name !== 'x-gzip' && name !== '*') continue;
    let q = 1;
    for (const param of params) {
      const [key, value] = param.split('=');
      if (key?.trim().toLowerCase() === 'q' && value !== undefined) q = Number(value.trim());
    }
    const allowed = q > 0;
    if (name === '*') star = allowed;
    else return allowed;
  }
  return star;
}

/** Serves the metrics of one registry to one framework's requests. */
export class MetricsRoute<Req> {
  readonly #settings: MetricsRouteSettings<Req>;

  constructor(settings: MetricsRouteSettings<Req>) {
    this.#settings = settings;
  }

  /** Answers one request to the metrics path. Never rejects. */
  async handle(request: MetricsRequest<Req>): Promise<MetricsResponse> {
    const { method } = request;
    if (method !== 'GET' && method !== 'HEAD') return METHOD_NOT_ALLOWED;
    const { authorize, onError, scrape } = this.#settings;
    if (authorize !== undefined) {
      let allowed = false;
      try {
        allowed = (await authorize(request.req)) === true;
      } catch (error) {
        onError(asError(error, 'authorize threw'));
      }
      if (!allowed) return FORBIDDEN;
    }
    try {
      const { contentType, body } = await scrape(request.accept);
      const headers: Record<string, string> = {
        'content-type': contentType,
        'cache-control': 'no-store',
        vary: 'Accept, Accept-Encoding',
      };
      let payload: string | Uint8Array = body;
      if (acceptsGzip(request.acceptEncoding)) {
        payload = await gzip(body);
        headers['content-encoding'] = 'gzip';
      }
      headers['content-length'] = String(
        typeof payload === 'string' ? Buffer.byteLength(payload) : payload.length,
      );
      return { status: 200, headers, body: payload };
    } catch (error) {
      onError(asError(error, 'scrape failed'));
      return FAILED;
    }
  }
}

/**
 * What {@link serveNodeRequest} reads from a node:http request (`IncomingMessage`, Express's
 * `req`). Structural, so that these declarations need no Node types in a consumer's project.
 */
export interface NodeRequestLike {
  readonly method?: string | undefined;
  readonly url?: string | undefined;
  readonly headers: {
    readonly accept?: string | undefined;
    readonly 'accept-encoding'?: string | undefined;
    readonly [name: string]: string | string[] | undefined;
  };
}

/** What {@link serveNodeRequest} writes to: a node:http `ServerResponse` (Express's `res`). */
export interface NodeResponseLike {
  readonly headersSent: boolean;
  writeHead(status: number, headers: Readonly<Record<string, string>>): unknown;
  end(body?: string | Uint8Array): unknown;
}

/**
 * Answers a node:http request (an Express `req`/`res`, or the metrics server's) with
 * `route.handle` and writes the response, unless something else already sent headers.
 * Never throws.
 */
export function serveNodeRequest<Req extends NodeRequestLike>(
  route: MetricsRoute<Req>,
  req: Req,
  res: NodeResponseLike,
): void {
  void route
    .handle({
      method: req.method,
      accept: req.headers.accept,
      acceptEncoding: req.headers['accept-encoding'],
      req,
    })
    .then((response) => {
      if (res.headersSent) return;
      res.writeHead(response.status, response.headers);
      res.end(response.body);
    });
}

/** Wraps a thrown non-Error so `onError` always receives an Error. */
export function asError(thrown: unknown, what: string): Error {
  return thrown instanceof Error ? thrown : new Error(`${what}: ${String(thrown)}`);
}
