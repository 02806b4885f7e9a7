/**
 * A loopback HTTP proxy between Prometheus and an example cluster that keeps every scrape it
 * passes on: which worker served it (the examples' `x-served-by` response header) and its body,
 * unchanged but not compressed (the proxy asks for identity encoding). It lets an e2e test tie what Prometheus stored to the scrape it came from: node:cluster
 * hands each connection to a worker, and Prometheus cannot say which one answered.
 */
import { createServer, request as httpRequest } from 'node:http';
import type { AddressInfo } from 'node:net';

/** One scrape as the proxy passed it on. */
export interface RecordedScrape {
  /** `x-served-by` of the response: the pid of the worker that answered. */
  readonly servedBy: string | undefined;
  readonly status: number;
  readonly body: Buffer;
}

/** A running recorder. */
export interface ScrapeRecorder {
  /** `127.0.0.1:<port>`: the target to give Prometheus. */
  readonly host: string;
  /** Every scrape passed on so far, in the order they were answered. */
  readonly scrapes: readonly RecordedScrape[];
  stop(): Promise<void>;
}

/**
 * Starts a proxy to `target` (`http://host:port`). Each request goes to the target on a fresh
 * connection, so node:cluster spreads the scrapes over the workers.
 */
export async function startScrapeRecorder(target: string): Promise<ScrapeRecorder> {
  const scrapes: RecordedScrape[] = [];
  const server = createServer((req, res) => {
    const upstream = httpRequest(
      new URL(req.url ?? '/', target),
      // Uncompressed (Prometheus asks for gzip), so that a test can search the bodies.
      {
        method: req.method,
        headers: { ...req.headers, connection: 'close', 'accept-encoding': 'identity' },
        agent: false,
      },
      (reply) => {
        const chunks: Buffer[] = [];
        reply.on('data', (chunk: Buffer) => chunks.push(chunk));
        reply.on('end', () => {
          const body = Buffer.concat(chunks);
          const servedBy = reply.headers['x-served-by'];
          scrapes.push({
            servedBy: typeof servedBy === 'string' ? servedBy : undefined,
            status: reply.statusCode ?? 0,
            body,
          });
          const headers = { ...reply.headers };
          delete headers['transfer-encoding'];
          headers['content-length'] = String(body.length);
          res.writeHead(reply.statusCode ?? 502, headers);
          res.end(body);
        });
        reply.on('error', () => res.destroy());
      },
    );
    upstream.on('error', () => {
      res.writeHead(502);
      res.end();
    });
    req.pipe(upstream);
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  return {
    host: `127.0.0.1:${port}`,
    scrapes,
    stop: () =>
      new Promise<void>((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
}
