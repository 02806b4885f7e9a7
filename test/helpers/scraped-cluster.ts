/**
 * An example cluster in a temporary metrics directory, scraped every second by a real
 * Prometheus: what the end-to-end tests against Prometheus share. `stop()` ends both and
 * removes the directory; a failed start cleans up what it had started.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { type ClusterKind, type ExampleCluster, startExampleCluster } from './processes.js';
import { type PrometheusServer, startPrometheus } from './prometheus.js';
import {
  type RecordedScrape,
  type ScrapeRecorder,
  startScrapeRecorder,
} from './scrape-recorder.js';

/** A running example cluster and the Prometheus scraping it. */
export interface ScrapedCluster {
  readonly cluster: ExampleCluster;
  readonly prometheus: PrometheusServer;
  /** With `recordScrapes`: every scrape Prometheus made, as the recorder passed it on. */
  readonly scrapes: readonly RecordedScrape[];
  /** Stops Prometheus, kills the cluster and removes the metrics directory. */
  stop(): Promise<void>;
}

/** Starts example `kind` with `workers` workers, then Prometheus scraping it as `jobName`. */
export async function startScrapedCluster(
  binary: string,
  kind: ClusterKind,
  options: {
    workers: number;
    jobName: string;
    env?: NodeJS.ProcessEnv | undefined;
    features?: readonly string[];
    /** Scrape through a recording proxy (scrape-recorder.ts). @default false */
    recordScrapes?: boolean;
  },
): Promise<ScrapedCluster> {
  const dir = mkdtempSync(join(tmpdir(), 'promfork-e2e-'));
  let cluster: ExampleCluster | undefined;
  let prometheus: PrometheusServer | undefined;
  let recorder: ScrapeRecorder | undefined;
  const stop = async () => {
    await prometheus?.stop();
    await recorder?.stop();
    await cluster?.program.stop('SIGKILL');
    rmSync(dir, { recursive: true, force: true });
  };
  try {
    cluster = await startExampleCluster(kind, {
      workers: options.workers,
      dir,
      ...(options.env === undefined ? {} : { env: options.env }),
    });
    if (options.recordScrapes === true) recorder = await startScrapeRecorder(cluster.url);
    prometheus = await startPrometheus(binary, {
      jobName: options.jobName,
      targets: [recorder?.host ?? new URL(cluster.url).host],
      ...(options.features === undefined ? {} : { features: options.features }),
    });
    return { cluster, prometheus, scrapes: recorder?.scrapes ?? [], stop };
  } catch (error) {
    await stop();
    throw error;
  }
}
