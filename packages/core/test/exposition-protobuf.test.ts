/**
 * The delimited protobuf exposition, checked by decoding it with @bufbuild/protobuf and code
 * generated from client_model's metrics.proto (an independent decoder), against the text
 * exposition of the same registry, and against frames computed by hand.
 */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { nativeBuckets } from '../src/exposition/protobuf.js';
import {
  Counter,
  FileStore,
  Histogram,
  MemoryStore,
  PROTOBUF_CONTENT_TYPE,
  Registry,
  type Store,
} from '../src/index.js';
import type { NativeHistogramSnapshot } from '../src/native-histogram.js';
import { FamilyRenderer } from '../src/render.js';
import { ProtobufRenderer } from '../src/render-protobuf.js';
import type { CollectedFamily } from '../src/store.js';
import type { MetricDescriptor } from '../src/types.js';
import { tempDir } from './file-store-helpers.js';
import { parseExposition, parseNumber } from './helpers/parse-exposition.js';
import { checkWithPromtool } from './helpers/promtool.js';
import {
  decodeDelimited,
  type FlatSample,
  flatten,
  type MetricFamily,
  MetricType,
  PROMETHEUS_NATIVE_ACCEPT,
} from './helpers/protobuf.js';
import { fixture } from './helpers/render-fixture.js';
import { textBody } from './helpers.js';

/** `name{sorted labels}` -> value, with `le` / `quantile` read as numbers. */
function keyed(samples: readonly FlatSample[]): Map<string, number> {
  const out = new Map<string, number>();
  for (const { name, labels, value } of samples) {
    const pairs = Object.entries(labels)
      .map(([k, v]) => [k, k === 'le' || k === 'quantile' ? String(parseNumber(v)) : v])
      .sort(([a], [b]) => ((a as string) < (b as string) ? -1 : 1));
    const key = `${name}${JSON.stringify(pairs)}`;
    assert.ok(!out.has(key), `duplicate sample ${key}`);
    out.set(key, value);
  }
  return out;
}

/** Scrapes `registry` as Prometheus with native histograms does, and decodes the answer. */
async function scrapeProtobuf(registry: Registry): Promise<MetricFamily[]> {
  const scraped = await registry.scrape(PROMETHEUS_NATIVE_ACCEPT);
  assert.equal(scraped.contentType, PROTOBUF_CONTENT_TYPE);
  assert.ok(scraped.body instanceof Uint8Array, 'a protobuf scrape gives bytes');
  return decodeDelimited(scraped.body);
}

/** Asserts that protobuf and text expositions of `registry` carry the same samples. */
async function assertSameAsText(registry: Registry, label: string): Promise<MetricFamily[]> {
  const families = await scrapeProtobuf(registry);
  const text = parseExposition(textBody(await registry.scrape('text/plain')), 'prometheus');
  const volatile = /^promfork_scrape_duration_seconds/;
  const fromText = keyed(text.flatMap((f) => f.samples).filter((s) => !volatile.test(s.name)));
  const fromProto = keyed(flatten(families).filter((s) => !volatile.test(s.name)));
  assert.deepEqual([...fromProto.keys()].sort(), [...fromText.keys()].sort(), label);
  for (const [key, value] of fromText) {
    assert.ok(
      Object.is(fromProto.get(key), value),
      `${label}: ${key} ${fromProto.get(key)} vs ${value}`,
    );
  }
  assert.deepEqual(
    families.map((f) => [f.name, f.help, MetricType[f.type].toLowerCase()]),
    text.map((f) => [f.name, f.help, f.type]),
    `${label}: names, help and types`,
  );
  return families;
}

test('every metric type decodes to the numbers of the text exposition (memory store)', async () => {
  const registry = new Registry();
  const data = fixture(registry, new MemoryStore());
  for (let round = 0; round < 3; round++) {
    data.update(round);
    registry.setDefaultLabels(round === 2 ? { app: 'api "1"', method: 'shadowed' } : {});
    await assertSameAsText(registry, `round ${round}`);
  }
});

test('every metric type decodes to the numbers of the text exposition (file store, pid labels)', async () => {
  const { dir, cleanup } = tempDir('promfork-protobuf-');
  const store: Store = new FileStore({ dir });
  try {
    const registry = new Registry({ includeForeignFamilies: true });
    const data = fixture(registry, store);
    data.update(0);
    registry.setDefaultLabels({ app: 'api' });
    const families = await assertSameAsText(registry, 'file store');
    const temperature = families.find((f) => f.name === 'temperature');
    assert.ok(
      temperature?.metric.every((m) =>
        m.label.some((l) => l.name === 'pid' && l.value === String(process.pid)),
      ),
    );
  } finally {
    store.close();
    cleanup();
  }
});

test('exemplars of counters and histogram buckets, +Inf included', async () => {
  const registry = new Registry();
  const data = fixture(registry, new MemoryStore());
  const before = Date.now() / 1000;
  data.update(0);
  const families = await scrapeProtobuf(registry);
  const requests = families.find((f) => f.name === 'req_total');
  const post = requests?.metric.find((m) =>
    m.label.some((l) => l.name === 'method' && l.value === 'POST'),
  );
  const exemplar = post?.counter?.exemplar;
  assert.deepEqual(
    exemplar?.label.map((l) => [l.name, l.value]),
    [
      ['trace_id', 't0'],
      ['span', 'ü'],
    ],
  );
  assert.equal(exemplar?.value, 0.5);
  const seconds = Number(exemplar?.timestamp?.seconds) + (exemplar?.timestamp?.nanos ?? 0) / 1e9;
  assert.ok(seconds >= Math.floor(before) && seconds <= Date.now() / 1000 + 1, `${seconds}`);
  const latency = families.find((f) => f.name === 'latency_seconds');
  const buckets = latency?.metric[0]?.histogram?.bucket ?? [];
  // 0.25 was observed with an exemplar: it belongs to the 0.5 bucket.
  const withExemplar = buckets.filter((b) => b.exemplar !== undefined);
  assert.deepEqual(
    withExemplar.map((b) => [b.upperBound, b.exemplar?.label[0]?.value, b.exemplar?.value]),
    [[0.5, 'h0', 0.25]],
  );
  // No bucket of another series carries an exemplar it did not get.
  const plain = families.find((f) => f.name === 'plain_histogram');
  assert.ok(plain?.metric[0]?.histogram?.bucket.every((b) => b.exemplar === undefined));
});

test('a +Inf bucket is written only to carry its exemplar', async () => {
  const registry = new Registry();
  const h = new Histogram({
    name: 'big',
    help: 'h',
    buckets: [1],
    enableExemplars: true,
    registers: [registry],
    store: new MemoryStore(),
  });
  h.observe(0.5);
  let bucket = (await scrapeProtobuf(registry))[0]?.metric[0]?.histogram?.bucket;
  assert.deepEqual(
    bucket?.map((b) => [b.upperBound, b.cumulativeCount]),
    [[1, 1n]],
  );
  h.observe({ value: 7, exemplarLabels: { trace_id: 'inf' } });
  bucket = (await scrapeProtobuf(registry))[0]?.metric[0]?.histogram?.bucket;
  assert.deepEqual(
    bucket?.map((b) => [b.upperBound, b.cumulativeCount, b.exemplar?.label[0]?.value]),
    [
      [1, 1n, undefined],
      [Number.POSITIVE_INFINITY, 2n, 'inf'],
    ],
  );
});

test('messages longer than 127 and 16383 bytes get multi-byte lengths', async () => {
  const registry = new Registry();
  const help = `${'h'.repeat(20000)}ü`;
  const c = new Counter({
    name: 'long_total',
    help,
    labelNames: ['v'],
    registers: [registry],
    store: new MemoryStore(),
  });
  for (let i = 0; i < 300; i++) c.inc({ v: `${'x'.repeat(i)}` }, i);
  const families = await scrapeProtobuf(registry);
  assert.equal(families.length, 1);
  assert.equal(families[0]?.help, help);
  assert.deepEqual(
    families[0]?.metric.map((m) => [m.label[0]?.value.length, m.counter?.value]),
    Array.from({ length: 300 }, (_, i) => [i, i]),
  );
});

/** A native-only histogram family (no classic bounds) with one unlabelled series. */
function nativeFamily(
  native: NativeHistogramSnapshot,
  buckets: readonly number[] = [],
  classic: readonly number[] = [0, native.sum, native.count],
): CollectedFamily {
  const descriptor: MetricDescriptor = {
    name: 'h',
    help: '',
    type: 'histogram',
    labelNames: [],
    buckets,
    mode: 'sum',
  };
  return { descriptor, series: [{ labelValues: [], cells: classic, native }] };
}

function renderOne(family: CollectedFamily): Buffer {
  return Buffer.from(new ProtobufRenderer().render([{ family, options: { nowMs: 0 } }]));
}

const SMALL: NativeHistogramSnapshot = {
  schema: 0,
  zeroThreshold: 0,
  zeroCount: 0,
  count: 3,
  sum: 1.5,
  positive: [
    [0, 1],
    [1, 2],
  ],
  negative: [],
};

test('a native histogram frame equals the one computed by hand', () => {
  const hex = (s: string) => Buffer.from(s.replace(/\s+/g, ''), 'hex');
  const histogram = hex(
    `
    08 03                        sample_count 3
    11 000000000000f83f          sample_sum 1.5
    28 00                        schema 0 (zigzag)
    31 0000000000000000          zero_threshold 0
    38 00                        zero_count 0
    62 04 08 00 10 02            positive_span {offset 0, length 2}
    68 02 68 02                  positive_delta +1, +1 (zigzag 2)
  `.replace(/ {2,}[a-z].*$/gm, ''),
  );
  assert.equal(histogram.length, 34);
  const metric = Buffer.concat([hex('3a 22'), histogram]);
  const family = Buffer.concat([hex('0a 01 68  18 04  22 24'), metric]);
  const frame = Buffer.concat([Buffer.from([family.length]), family]);
  assert.equal(renderOne(nativeFamily(SMALL)).toString('hex'), frame.toString('hex'));
});

test('spans and deltas: gaps of up to two buckets are filled, longer ones start a span', () => {
  assert.deepEqual(nativeBuckets([]), { spans: [], deltas: [] });
  assert.deepEqual(
    nativeBuckets([
      [-1, 1],
      [0, 2],
      [3, 1],
    ]),
    // -1, 0, then two empty buckets (1, 2) filled with zeros, then 3.
    { spans: [[-1, 5]], deltas: [1, 1, -2, 0, 1] },
  );
  assert.deepEqual(
    nativeBuckets([
      [0, 4],
      [4, 4],
      [5, 1],
      [9, 7],
    ]),
    // Gap of three (1..3): new span at offset 3; gap of three (6..8): another.
    {
      spans: [
        [0, 1],
        [3, 2],
        [3, 1],
      ],
      deltas: [4, 0, -3, 6],
    },
  );
  assert.deepEqual(nativeBuckets([[-2147483648, 2 ** 40]]), {
    spans: [[-2147483648, 1]],
    deltas: [2 ** 40],
  });
});

test('native buckets decode to the snapshot: positive, negative, zero bucket, big numbers', () => {
  const native: NativeHistogramSnapshot = {
    schema: -4,
    zeroThreshold: 2 ** -128,
    zeroCount: 5,
    count: 2 ** 40 + 5 + 3 + 9,
    sum: -12.5,
    positive: [
      [-3, 2 ** 40],
      [7, 3],
    ],
    negative: [
      [2, 4],
      [3, 5],
    ],
  };
  const [family] = decodeDelimited(renderOne(nativeFamily(native)));
  const h = family?.metric[0]?.histogram;
  assert.equal(family?.type, MetricType.HISTOGRAM);
  assert.equal(h?.schema, -4);
  assert.equal(h?.zeroThreshold, 2 ** -128);
  assert.equal(h?.zeroCount, 5n);
  assert.equal(h?.sampleCount, BigInt(native.count));
  assert.equal(h?.sampleSum, -12.5);
  assert.deepEqual(h?.bucket, []);
  assert.deepEqual(
    h?.positiveSpan.map((s) => [s.offset, s.length]),
    [
      [-3, 1],
      [9, 1],
    ],
  );
  assert.deepEqual(h?.positiveDelta, [2n ** 40n, 3n - 2n ** 40n]);
  assert.deepEqual(
    h?.negativeSpan.map((s) => [s.offset, s.length]),
    [[2, 2]],
  );
  assert.deepEqual(h?.negativeDelta, [4n, 1n]);
});

test('a native histogram with no populated bucket gets a no-op span', () => {
  const empty: NativeHistogramSnapshot = { ...SMALL, count: 0, sum: 0, positive: [] };
  const h = decodeDelimited(renderOne(nativeFamily(empty)))[0]?.metric[0]?.histogram;
  assert.deepEqual(
    h?.positiveSpan.map((s) => [s.offset, s.length]),
    [[0, 0]],
  );
  assert.deepEqual(h?.positiveDelta, []);
  assert.deepEqual(h?.negativeSpan, []);
});

test('a histogram with classic buckets and native data carries both', () => {
  // Classic cells for bounds [0.5, 1]: non-cumulative 1, 2, then +Inf 0, sum, count.
  const family = nativeFamily(SMALL, [0.5, 1], [1, 2, 0, 1.5, 3]);
  const h = decodeDelimited(renderOne(family))[0]?.metric[0]?.histogram;
  assert.deepEqual(
    h?.bucket.map((b) => [b.upperBound, b.cumulativeCount]),
    [
      [0.5, 1n],
      [1, 3n],
    ],
  );
  assert.equal(h?.sampleCount, 3n);
  assert.deepEqual(
    h?.positiveSpan.map((s) => [s.offset, s.length]),
    [[0, 2]],
  );
  assert.deepEqual(h?.positiveDelta, [1n, 1n]);
});

test('a native-only histogram stays a valid classic histogram in the text formats', (t) => {
  // Without classic bounds, the text formats show what they can: count, sum and the +Inf
  // bucket from the classic cells; the native buckets exist in protobuf only.
  const bare = nativeFamily(SMALL, [], [3, 1.5, 3]);
  const family = { ...bare, descriptor: { ...bare.descriptor, help: 'native' } };
  const renderer = new FamilyRenderer();
  const text = renderer.render([{ family, options: { nowMs: 0 } }], 'prometheus');
  assert.equal(
    text,
    '# HELP h native\n# TYPE h histogram\nh_bucket{le="+Inf"} 3\nh_sum 1.5\nh_count 3\n',
  );
  checkWithPromtool(t, text, 'prometheus');
  const om = renderer.render([{ family, options: { nowMs: 0 } }], 'openmetrics');
  assert.equal(
    om,
    '# TYPE h histogram\n# HELP h native\nh_bucket{le="+Inf"} 3\nh_sum 1.5\nh_count 3\n# EOF\n',
  );
  checkWithPromtool(t, om, 'openmetrics');
});

test('a Histogram with the native option, merged from two file stores, scrapes as a native histogram', async () => {
  // Two writers of one directory: the scraping store and another one, as two processes' files.
  const { dir, cleanup } = tempDir('promfork-protobuf-native-');
  const scraper: Store = new FileStore({ dir });
  const other: Store = new FileStore({ dir });
  try {
    const registry = new Registry();
    const options = { name: 'work_seconds', help: 'Work', nativeHistogram: { bucketFactor: 2 } };
    const mine = new Histogram({ ...options, registers: [registry], store: scraper });
    const theirs = new Histogram({ ...options, registers: [new Registry()], store: other });
    // Schema 0: bucket i holds (2^(i-1), 2^i].
    for (const v of [0.75, 1, 3]) mine.observe(v);
    for (const v of [0, 3.5, 3.9]) theirs.observe(v);
    other.flush();
    const family = (await scrapeProtobuf(registry)).find((f) => f.name === 'work_seconds');
    const h = family?.metric[0]?.histogram;
    assert.equal(family?.type, MetricType.HISTOGRAM);
    assert.equal(h?.schema, 0);
    assert.equal(h?.sampleCount, 6n);
    assert.equal(h?.sampleSum, 0.75 + 1 + 3 + 0 + 3.5 + 3.9);
    assert.equal(h?.zeroCount, 1n);
    // Buckets 0 (0.75, 1) and 2 (3, 3.5, 3.9): one span with a filled gap.
    assert.deepEqual(
      h?.positiveSpan.map((s) => [s.offset, s.length]),
      [[0, 3]],
    );
    assert.deepEqual(h?.positiveDelta, [2n, -2n, 3n]);
  } finally {
    scraper.close();
    other.close();
    cleanup();
  }
});
