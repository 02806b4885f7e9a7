/**
 * Runs a real Prometheus Pushgateway (Debian's `prometheus-pushgateway` package) for the e2e
 * tests: on a free loopback port, keeping pushed metrics in memory only (no persistence file).
 */
import { request } from './http.js';
import { RunningProgram } from './processes.js';
import { awaitReady, findExecutable, freePort } from './prometheus.js';

/** Path of the gateway binary: $PUSHGATEWAY_BIN, else `prometheus-pushgateway` or `pushgateway` on $PATH. */
export function findPushgateway(): string | undefined {
  const override = process.env.PUSHGATEWAY_BIN;
  return (
    findExecutable('prometheus-pushgateway', override) ??
    (override ? undefined : findExecutable('pushgateway', undefined))
  );
}

/** A running Pushgateway. */
export interface PushgatewayServer {
  /** Base URL, e.g. `http://127.0.0.1:40123`. */
  readonly url: string;
  readonly program: RunningProgram;
  /** The gateway's own exposition (`GET /metrics`): every pushed group plus its own metrics. */
  scrape(): Promise<string>;
  /** Stops the gateway. */
  stop(): Promise<void>;
}

/** Starts the gateway, resolved when it answers `/-/ready`. */
export async function startPushgateway(
  binary: string,
  options: { timeoutMs?: number } = {},
): Promise<PushgatewayServer> {
  const port = await freePort();
  const url = `http://127.0.0.1:${port}`;
  const program = new RunningProgram(
    'pushgateway',
    binary,
    [`--web.listen-address=127.0.0.1:${port}`, '--persistence.file=', '--log.level=warn'],
    process.env,
  );
  const stop = async () => {
    await program.stop('SIGTERM', 5000);
  };
  await awaitReady('the Pushgateway', program, url, stop, {
    timeoutMs: options.timeoutMs,
    intervalMs: 100,
  });
  return {
    url,
    program,
    stop,
    async scrape() {
      const res = await request(`${url}/metrics`, { timeoutMs: 5000 });
      if (res.status !== 200) throw new Error(`GET ${url}/metrics answered ${res.status}`);
      return res.body;
    },
  };
}
