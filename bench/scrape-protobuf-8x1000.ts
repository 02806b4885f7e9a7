/**
 * `scrape.protobuf.8x1000`: the merged /metrics of the `scrape.8x1000` data (8 live workers,
 * 1,000 label sets per metric each) in the delimited protobuf format, against the text format
 * of the same registry in the same run (goal: no slower). `scrape.protobuf.8x1000.encode`
 * isolates the encoding of the collected families: promfork's hand-written encoder against
 * @bufbuild/protobuf building and serialising the same messages.
 */
import type { ChildProcess } from 'node:child_process';
import { rmSync } from 'node:fs';
import { FileStore } from '@promfork/core';
import { median } from './lib/measure.js';
import { peerName } from './lib/peers.js';
import { stopAll } from './lib/processes.js';
import { encodeWithLibrary } from './lib/protobuf-library.js';
import { forkAll, scrapeRegistry, WORKERS } from './lib/scrape.js';
import { SCRAPE_COUNTER, SCRAPE_HISTOGRAM } from './lib/scrape-data.js';
import { makeTempDir } from './lib/stores.js';
import { type BenchResult, result, type Scenario, type ScenarioContext } from './lib/types.js';

/**
 * The renderer is internal to @promfork/core (not in its exports map): loaded from the built
 * package by path, relative to this file once compiled (bench/dist/).
 */
const { ProtobufRenderer } = (await import(
  new URL('../../packages/core/dist/src/render-protobuf.js', import.meta.url).href
)) as typeof import('../packages/core/dist/src/render-protobuf.js');

const ID = 'scrape.protobuf.8x1000';
const SETS = 1000;
/** What Prometheus 2.42 sends with native histograms on. */
const PROTOBUF_ACCEPT =
  'application/vnd.google.protobuf;proto=io.prometheus.client.MetricFamily;encoding=delimited,' +
  'application/openmetrics-text;version=1.0.0;q=0.8,text/plain;version=0.0.4;q=0.5,*/*;q=0.1';

async function run(context: ScenarioContext): Promise<BenchResult[]> {
  const rounds = context.quick ? 5 : 11;
  const dir = makeTempDir(ID);
  let writers: ChildProcess[] = [];
  try {
    writers = await forkAll(WORKERS, (i) => [dir, String(i), String(SETS), 'hold']);
    const store = new FileStore({ dir });
    try {
      const registry = scrapeRegistry(store);
      // Warm both paths (file cache, label caches), then alternate them round by round so
      // that both see the same machine load.
      const first = await registry.scrape(PROTOBUF_ACCEPT);
      const text = await registry.scrape('text/plain');
      if (typeof first.body === 'string' || typeof text.body !== 'string') {
        throw new Error(`${ID}: negotiation did not give protobuf and text`);
      }
      const protobufMs: number[] = [];
      const textMs: number[] = [];
      for (let r = 0; r < rounds; r++) {
        let start = process.hrtime.bigint();
        await registry.scrape(PROTOBUF_ACCEPT);
        protobufMs.push(Number(process.hrtime.bigint() - start) / 1e6);
        start = process.hrtime.bigint();
        await registry.scrape('text/plain');
        textMs.push(Number(process.hrtime.bigint() - start) / 1e6);
      }

      // Encoding alone, on the two data families collected once.
      const families = store.collect(
        (name) => name === SCRAPE_COUNTER || name === SCRAPE_HISTOGRAM,
      );
      const items = families.map((family) => ({ family, options: { nowMs: Date.now() } }));
      const renderer = new ProtobufRenderer();
      const ours = renderer.render(items);
      const library = encodeWithLibrary(families);
      if (Buffer.compare(Buffer.from(ours), Buffer.from(library)) !== 0) {
        throw new Error(`${ID}: promfork's encoding differs from the library's`);
      }
      const oursEncode: number[] = [];
      const libraryEncode: number[] = [];
      for (let r = 0; r < rounds; r++) {
        let start = process.hrtime.bigint();
        renderer.render(items);
        oursEncode.push(Number(process.hrtime.bigint() - start) / 1e6);
        start = process.hrtime.bigint();
        encodeWithLibrary(families);
        libraryEncode.push(Number(process.hrtime.bigint() - start) / 1e6);
      }
      context.note(
        ID,
        `ours: median of ${rounds} warm protobuf scrapes, peer: median of ${rounds} text 0.0.4 ` +
          `scrapes of the same registry, alternated; ${(first.body.length / 1e6).toFixed(2)} MB ` +
          `of protobuf against ${(text.body.length / 1e6).toFixed(2)} MB of text.`,
      );
      context.note(
        `${ID}.encode`,
        `encoding only, the families collected once: ours ProtobufRenderer.render(), peer the ` +
          `same messages built with create() and written with sizeDelimitedEncode(); the two ` +
          `outputs are byte for byte equal (checked in the run).`,
      );
      return [
        result(ID, 'ms', median(protobufMs), median(textMs), 'promfork text 0.0.4'),
        result(
          `${ID}.encode`,
          'ms',
          median(oursEncode),
          median(libraryEncode),
          peerName('@bufbuild/protobuf'),
        ),
      ];
    } finally {
      store.close();
    }
  } finally {
    await stopAll(writers);
    rmSync(dir, { recursive: true, force: true });
  }
}

/** The scenario. */
export const scenario: Scenario = {
  name: ID,
  method:
    "ours: registry.scrape(<Prometheus 2.42's native-histogram Accept>) merging the FileStore files of 8 live forked workers (the scrape.8x1000 data) into the delimited protobuf format; peer: registry.scrape('text/plain') of the same registry, alternated; median ms of warm scrapes. `.encode`: encoding alone against @bufbuild/protobuf.",
  run,
};
