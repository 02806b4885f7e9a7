/**
 * A minimal loopback HTTP client for the e2e tests. Every request opens its own connection
 * (`agent: false`, `Connection: close`): node:cluster hands out connections, not requests, to
 * workers, so a kept-alive connection would pin all traffic to one worker.
 */
import { request as httpRequest } from 'node:http';

/** A complete response. */
export interface HttpResponse {
  readonly status: number;
  readonly headers: Readonly<Record<string, string | string[] | undefined>>;
  readonly body: string;
}

/** Options of {@link request}. */
export interface RequestOptions {
  /** @default 'GET' */
  readonly method?: string;
  readonly headers?: Readonly<Record<string, string>>;
  readonly body?: string;
  /** Whole-request deadline (generous: the suite may share a busy machine). @default 15000 */
  readonly timeoutMs?: number;
}

/** Sends one request on a fresh connection and reads the whole body. */
export function request(url: string, options: RequestOptions = {}): Promise<HttpResponse> {
  const timeoutMs = options.timeoutMs ?? 15_000;
  return new Promise((resolve, reject) => {
    const req = httpRequest(
      url,
      {
        method: options.method ?? 'GET',
        agent: false,
        headers: { connection: 'close', ...options.headers },
      },
      (res) => {
        const chunks: Buffer[] = [];
        res.on('data', (chunk: Buffer) => chunks.push(chunk));
        res.on('error', reject);
        res.on('end', () => {
          clearTimeout(timer);
          resolve({
            status: res.statusCode ?? 0,
            headers: res.headers,
            body: Buffer.concat(chunks).toString('utf8'),
          });
        });
      },
    );
    const timer = setTimeout(() => {
      req.destroy(
        new Error(`${options.method ?? 'GET'} ${url}: no response within ${timeoutMs} ms`),
      );
    }, timeoutMs);
    req.on('error', (error) => {
      clearTimeout(timer);
      reject(error);
    });
    req.end(options.body);
  });
}

/**
 * Runs `tasks` with at most `concurrency` in flight and returns their results in order.
 * Rejects with the first failure after the tasks already started have settled.
 */
export async function runLimited<T>(
  tasks: ReadonlyArray<() => Promise<T>>,
  concurrency: number,
): Promise<T[]> {
  const results: T[] = new Array(tasks.length);
  let next = 0;
  let failure: { error: unknown } | undefined;
  const lane = async () => {
    while (failure === undefined && next < tasks.length) {
      const index = next++;
      try {
        results[index] = await tasks[index]!();
      } catch (error) {
        failure ??= { error };
      }
    }
  };
  await Promise.all(Array.from({ length: Math.min(concurrency, tasks.length) }, lane));
  if (failure !== undefined) throw failure.error;
  return results;
}
