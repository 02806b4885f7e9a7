/**
 * The worker side every example shares: start the framework's server on HOST:PORT from the
 * environment (set by our primary, or by PM2 from the ecosystem file), and on SIGTERM/SIGINT
 * stop accepting, let running requests finish, and exit 0.
 *
 * Exiting with status 0 is how a worker tells the primary "I was asked to stop": the primary
 * replaces only workers that die by a signal or a non-zero status.
 */
import { createServer, type RequestListener } from 'node:http';
import { ConfigError, readClusterConfig } from './config.js';

/** A started server, as each framework's worker hands it back. */
export interface StartedServer {
  /** Stops accepting connections and resolves when open requests are done. */
  close(): Promise<void>;
}

/**
 * Serves a plain Node request listener (an Express app, a Koa `app.callback()`) on
 * host:port: the `start` of the frameworks that do not listen by themselves.
 */
export function listenHttp(
  listener: RequestListener,
  host: string,
  port: number,
): Promise<StartedServer> {
  return new Promise((resolve, reject) => {
    const server = createServer(listener);
    server.once('error', reject);
    server.listen(port, host, () => {
      server.off('error', reject);
      resolve({
        close: () =>
          new Promise<void>((done, fail) =>
            server.close((error) => (error ? fail(error) : done())),
          ),
      });
    });
  });
}

/** Options of {@link runWorker}. */
export interface WorkerOptions {
  /** Port when PORT is unset (PM2 without an env block, `node worker.js`). */
  readonly defaultPort: number;
  /** Starts the app listening on host:port and resolves once it listens. */
  readonly start: (host: string, port: number) => Promise<StartedServer>;
  /**
   * How long to wait for open requests on shutdown before exiting anyway.
   * @default 3000
   */
  readonly closeTimeoutMs?: number;
}

/** Starts the worker's server and installs the shutdown handlers. Exits 1 if start fails. */
export async function runWorker(options: WorkerOptions): Promise<void> {
  let server: StartedServer;
  try {
    // Flags belong to the primary; a worker reads only the environment.
    const config = readClusterConfig({ port: options.defaultPort }, [], process.env);
    server = await options.start(config.host, config.port);
  } catch (error) {
    const message = error instanceof ConfigError ? error.message : String(error);
    console.error(`worker pid=${process.pid} could not start: ${message}`);
    process.exit(1);
  }
  let closing = false;
  const shutdown = () => {
    if (closing) return;
    closing = true;
    // unref: the timer must not keep a worker alive that has nothing else left to do.
    setTimeout(() => process.exit(0), options.closeTimeoutMs ?? 3000).unref();
    server.close().then(
      () => process.exit(0),
      (error: unknown) => {
        console.error(`worker pid=${process.pid} failed to close: ${String(error)}`);
        process.exit(0);
      },
    );
  };
  process.on('SIGTERM', shutdown);
  process.on('SIGINT', shutdown);
}
