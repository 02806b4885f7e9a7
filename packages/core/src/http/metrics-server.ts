/**
 * A metrics server of its own on node:http, for any framework (or none): `/metrics` on an
 * internal port, so the public port need not expose it. It serves the same route as the
 * adapters' `metricsHandler()` (negotiation, gzip, `authorize`, 405 for other methods) at one
 * path and answers 404 elsewhere.
 *
 * Contract: options are checked before anything listens (InvalidOptionError); a failure to
 * listen rejects with ListenError and leaves nothing open; `close()` stops listening, drops
 * idle and open connections and resolves when the server is closed.
 */
import { once } from 'node:events';
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { ListenError } from '../errors.js';
import { assertOptionKeys, invalidOption } from '../validation.js';
import { createMetricsRoute } from './instrumentation.js';
import { type NodeRequestLike, serveNodeRequest } from './metrics-route.js';
import type { MetricsRouteOptions } from './options.js';

/** Options of {@link startMetricsServer}. */
export interface MetricsServerOptions extends MetricsRouteOptions<NodeRequestLike> {
  /**
   * TCP port to listen on; 0 picks a free one (read it from `address.port`).
   * @default 9464
   */
  readonly port?: number;
  /**
   * Address to listen on. Set `'127.0.0.1'` to serve only this machine.
   * @default every interface (node:http's default)
   */
  readonly host?: string;
  /**
   * Path of the metrics; the query string is ignored. Other paths get 404.
   * @default '/metrics'
   */
  readonly path?: string;
}

/** A bound address, as node:net reports it (declared here so no Node types are needed). */
export interface MetricsServerAddress {
  readonly address: string;
  readonly family: string;
  readonly port: number;
}

/** A running metrics server. */
export interface MetricsServer {
  /** The bound address, with the real port when `port` was 0. */
  readonly address: MetricsServerAddress;
  /** Stops listening and closes every connection; resolves once the server is closed. */
  close(): Promise<void>;
}

/** The port of {@link startMetricsServer} when none is given (the OpenTelemetry exporter's). */
export const DEFAULT_METRICS_PORT = 9464;

const WHERE = 'startMetricsServer';
const SERVER_KEYS = ['port', 'host', 'path', 'registry', 'authorize', 'onError'];

/**
 * Starts an HTTP server answering `GET`/`HEAD` on `path` with the metrics of `registry`.
 * Throws InvalidOptionError for bad options; rejects with ListenError when it cannot listen.
 */
export async function startMetricsServer(
  options: MetricsServerOptions = {},
): Promise<MetricsServer> {
  // (Checked as unknown: narrowing `options` to a record would erase the option types.)
  assertOptionKeys(options as unknown, SERVER_KEYS, WHERE);
  const { port = DEFAULT_METRICS_PORT, host, path = '/metrics', ...routeOptions } = options;
  if (!Number.isInteger(port) || port < 0 || port > 65535) {
    invalidOption(WHERE, 'port', port, 'an integer from 0 to 65535');
  }
  if (host !== undefined && (typeof host !== 'string' || host === '')) {
    invalidOption(WHERE, 'host', host, 'a host name or IP address');
  }
  if (typeof path !== 'string' || path[0] !== '/') {
    invalidOption(WHERE, 'path', path, 'a path starting with "/"');
  }
  const route = createMetricsRoute<NodeRequestLike>(routeOptions, WHERE);
  const server = createServer((req, res) => {
    const url = req.url ?? '';
    const query = url.indexOf('?');
    if ((query === -1 ? url : url.slice(0, query)) !== path) {
      res.writeHead(404, { 'content-length': '0' });
      res.end();
      return;
    }
    serveNodeRequest(route, req, res);
  });
  server.listen(port, host);
  try {
    await Promise.race([
      once(server, 'listening'),
      once(server, 'error').then(([error]) => Promise.reject(error)),
    ]);
  } catch (error) {
    server.close();
    const where = `${host ?? '(every interface)'}:${port}`;
    throw new ListenError(
      'PROMFORK_LISTEN_FAILED',
      `${WHERE} could not listen on ${where}: ${(error as Error).message}`,
      { cause: error },
    );
  }
  const { address, family, port: bound } = server.address() as AddressInfo;
  return {
    address: { address, family, port: bound },
    close: async () => {
      const closed = once(server, 'close');
      server.close();
      server.closeAllConnections();
      await closed;
    },
  };
}
