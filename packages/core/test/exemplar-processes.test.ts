/**
 * Exemplars through the FileStore with real processes: whichever process answers a scrape shows,
 * per counter series and per histogram bucket, the latest exemplar recorded by ANY live process,
 * in OpenMetrics and in protobuf; a dead process's exemplars go with its file's compaction while
 * its counts stay; a rewrite of a file keeps them; torn and planted exemplar entries are left
 * out and counted, never the file.
 */
import assert from 'node:assert/strict';
import { once } from 'node:events';
import {
  closeSync,
  existsSync,
  openSync,
  readdirSync,
  readFileSync,
  rmSync,
  statSync,
  writeSync,
} from 'node:fs';
import { join } from 'node:path';
import { type TestContext, test } from 'node:test';
import { setTimeout as sleep } from 'node:timers/promises';
import { Worker as Thread } from 'node:worker_threads';
import { exemplarsCheck } from '../src/file-store/exemplar-entry.js';
import { FileStore } from '../src/file-store/index.js';
import { Counter, Gauge, Registry } from '../src/index.js';
import { tempDir, Worker } from './file-store-helpers.js';
import { decodeDelimited, MetricType, PROMETHEUS_NATIVE_ACCEPT } from './helpers/protobuf.js';

const OPENMETRICS = 'application/openmetrics-text; version=1.0.0';

/**
 * The exemplars of route `/a` in an OpenMetrics text: `counter` and one per bucket (`le`), or
 * `-` where a line carries none.
 */
function exemplarsInText(text: string): Record<string, string> {
  const out: Record<string, string> = {};
  for (const line of text.split('\n')) {
    const m =
      /^ex_(requests_total|latency_seconds_bucket)\{route="\/a"(?:,le="([^"]+)")?\} \S+(?: # \{trace_id="([^"]*)",pid="(\d+)"\} (\S+) (\S+))?$/.exec(
        line,
      );
    if (m === null) continue;
    const key = m[1] === 'requests_total' ? 'counter' : `le=${m[2]}`;
    out[key] = m[3] === undefined ? '-' : `${m[3]}@${m[4]}`;
  }
  return out;
}

/** The same from a protobuf exposition (base64 from the worker). */
function exemplarsInProtobuf(base64: string): Record<string, string> {
  const out: Record<string, string> = {};
  const label = (labels: readonly { name: string; value: string }[], name: string) =>
    labels.find((l) => l.name === name)?.value;
  const show = (e: { label: { name: string; value: string }[] } | undefined): string =>
    e === undefined ? '-' : `${label(e.label, 'trace_id')}@${label(e.label, 'pid')}`;
  for (const family of decodeDelimited(Buffer.from(base64, 'base64'))) {
    for (const metric of family.metric) {
      if (label(metric.label, 'route') !== '/a') continue;
      if (family.type === MetricType.COUNTER && family.name === 'ex_requests_total') {
        out.counter = show(metric.counter?.exemplar);
      }
      if (family.type === MetricType.HISTOGRAM && family.name === 'ex_latency_seconds') {
        for (const bucket of metric.histogram?.bucket ?? []) {
          const le =
            bucket.upperBound === Number.POSITIVE_INFINITY ? '+Inf' : String(bucket.upperBound);
          out[`le=${le}`] = show(bucket.exemplar);
        }
      }
    }
  }
  return out;
}

/** Distinct exemplar timestamps (ms resolution) between steps; no timing is asserted. */
const tick = () => sleep(3);

async function record(w: Worker, trace: string, value: number): Promise<void> {
  await tick();
  await w.run({ op: 'record', route: '/a', value, trace });
}

test('any process scrapes the latest exemplar of every bucket, whoever recorded it; a dead one goes with compaction', async (t) => {
  const { dir, cleanup } = tempDir('promfork-ex-');
  t.after(cleanup);
  const workers = [
    new Worker(dir, 'exemplar-worker'),
    new Worker(dir, 'exemplar-worker'),
    new Worker(dir, 'exemplar-worker'),
  ];
  t.after(async () => {
    for (const w of workers) await w.kill();
  });
  await Promise.all(workers.map((w) => w.ready));
  const [a, b, c] = workers as [Worker, Worker, Worker];
  const at = (w: Worker, trace: string) => `${trace}@${w.pid}`;

  await record(a, 'a1', 0.05); // le=0.1
  await record(b, 'b1', 0.5); // le=1
  await record(c, 'c1', 5); // le=10
  await record(c, 'c2', 50); // +Inf
  await record(a, 'a2', 0.07); // le=0.1, newer than a1
  await record(b, 'b2', 0.06); // le=0.1: another process's newer exemplar replaces a2
  // Updates without an exemplar leave the exemplars alone.
  await a.run({ op: 'plain', route: '/a', value: 0.01 });

  const expected = {
    counter: at(b, 'b2'),
    'le=0.1': at(b, 'b2'),
    'le=1.0': at(b, 'b1'),
    'le=10.0': at(c, 'c1'),
    'le=+Inf': at(c, 'c2'),
  };
  for (const w of workers) {
    const text = await w.scrape(OPENMETRICS);
    assert.deepEqual(
      exemplarsInText(text),
      expected,
      `OpenMetrics scraped from ${w.pid}:\n${text}`,
    );
    assert.match(text, /^ex_latency_seconds_count\{route="\/a"\} 7$/m);
    const proto = exemplarsInProtobuf(await w.scrape(PROMETHEUS_NATIVE_ACCEPT));
    assert.deepEqual(
      proto,
      {
        counter: expected.counter,
        'le=0.1': expected['le=0.1'],
        'le=1': expected['le=1.0'],
        'le=10': expected['le=10.0'],
        'le=+Inf': expected['le=+Inf'],
      },
      `protobuf scraped from ${w.pid}`,
    );
  }

  // C dies; A's next scrape compacts its file into the archive: its counts stay, its exemplars go.
  await c.kill();
  const after = await a.scrape(OPENMETRICS);
  assert.ok(!readdirSync(dir).some((n) => n.includes(`-${c.pid}-`)), readdirSync(dir).join(', '));
  assert.deepEqual(exemplarsInText(after), { ...expected, 'le=10.0': '-', 'le=+Inf': '-' }, after);
  assert.match(after, /^ex_latency_seconds_count\{route="\/a"\} 7$/m);
  assert.match(after, /^ex_latency_seconds_bucket\{route="\/a",le="\+Inf"\} 7$/m);

  // A reset takes a series' exemplars with it, in every process's view.
  await b.run({ op: 'reset' });
  const reset = exemplarsInText(await a.scrape(OPENMETRICS));
  assert.deepEqual(reset, {
    counter: at(a, 'a2'),
    'le=0.1': at(a, 'a2'),
    'le=1.0': '-',
    'le=10.0': '-',
    'le=+Inf': '-',
  });
});

/** The byte offsets of the exemplar entries (kind 4) of a store file. */
function exemplarEntries(path: string): number[] {
  const bytes = readFileSync(path);
  const used = bytes.readUInt32LE(16);
  const out: number[] = [];
  for (let at = bytes.readUInt32LE(20); at < used; at += bytes.readUInt32LE(at)) {
    if (bytes[at + 4] === 4 && (bytes[at + 5]! & 1) === 0) out.push(at);
  }
  return out;
}

function patch(path: string, at: number, data: Buffer): void {
  const fd = openSync(path, 'r+');
  try {
    writeSync(fd, data, 0, data.length, at);
  } finally {
    closeSync(fd);
  }
}

/** `jobs_total` as a registry on `store` scrapes it in OpenMetrics (exemplars off there). */
async function openMetricsOf(store: FileStore): Promise<string> {
  const registry = new Registry({ includeForeignFamilies: false });
  new Counter({
    name: 'jobs_total',
    help: 'Jobs',
    labelNames: ['kind'],
    store,
    registers: [registry],
  });
  return String((await registry.scrape(OPENMETRICS)).body);
}

/**
 * The store's count of exemplar entries left out for `reason`, from a collect of its own (which
 * counts what it leaves out too).
 */
function droppedOf(store: FileStore, reason: string): number {
  const family = store
    .collect()
    .find((f) => f.descriptor.name === 'promfork_store_exemplars_dropped_total');
  return family?.series.find((s) => s.labelValues[0] === reason)?.cells[0] ?? 0;
}

/**
 * A FileStore in a fresh directory, in this process, with `jobs_total` (label `kind`,
 * exemplars on, registered in `registers`): a writer whose file the test can read and damage
 * between flushes. `options` are added to the store's.
 */
function exemplarWriter(
  t: TestContext,
  options: { readonly shareExemplars?: boolean } = {},
  registers: Registry[] = [],
): { dir: string; writer: FileStore; jobs: Counter<'kind'> } {
  const { dir, cleanup } = tempDir('promfork-ex-');
  t.after(cleanup);
  const writer = new FileStore({ dir, compactDeadProcesses: false, ...options });
  t.after(() => writer.close());
  const jobs = new Counter({
    name: 'jobs_total',
    help: 'Jobs',
    labelNames: ['kind'],
    enableExemplars: true,
    store: writer,
    registers,
  });
  return { dir, writer, jobs };
}

test('torn and planted exemplar entries are left out and counted; the file is not', async (t) => {
  const { dir, writer, jobs } = exemplarWriter(t);
  jobs.inc({ labels: { kind: 'a' }, value: 2, exemplarLabels: { trace_id: 'abc' } });
  writer.flush();
  const path = join(dir, writer.fileName);
  const [entry] = exemplarEntries(path);
  assert.ok(entry !== undefined, 'no exemplar entry written');

  const reader = new FileStore({ dir, compactDeadProcesses: false });
  t.after(() => reader.close());
  const scrape = () => openMetricsOf(reader);
  const healthy = await scrape();
  // The reader's registry has exemplars off for its own metric; the writer's come from its file.
  assert.match(healthy, /^jobs_total\{kind="a"\} 2 # \{trace_id="abc"\} 2 \d+(\.\d+)?$/m);

  // A record changed under its check (what a read racing the writer's flush sees).
  const bytes = readFileSync(path);
  const recordLabels = entry + 24 + 24;
  patch(path, recordLabels + 2, Buffer.from('X'));
  const torn = await scrape();
  assert.match(torn, /^jobs_total\{kind="a"\} 2$/m, torn);
  // One for the scrape, one for the collect that reads the count.
  assert.equal(droppedOf(reader, 'torn'), 2);

  // Planted: labels no metric accepts, with a matching check.
  const planted = Buffer.from(bytes);
  planted.write('{"bad name":"x"}', recordLabels, 'utf8');
  planted.writeUInt32LE(16, entry + 24 + 16);
  planted.writeUInt32LE(
    exemplarsCheck(planted, entry, planted.readUInt32LE(entry) - 24),
    entry + 20,
  );
  patch(path, entry, planted.subarray(entry, entry + planted.readUInt32LE(entry)));
  const invalid = await scrape();
  assert.match(invalid, /^jobs_total\{kind="a"\} 2$/m, invalid);
  assert.equal(droppedOf(reader, 'invalid'), 2);

  // Planted: records larger than any writer makes.
  patch(path, entry + 16, Buffer.from([0, 0x10, 0, 0]));
  const oversized = await scrape();
  assert.match(oversized, /^jobs_total\{kind="a"\} 2$/m, oversized);
  assert.equal(droppedOf(reader, 'invalid'), 4);
  const readErrors = reader
    .collect()
    .find((f) => f.descriptor.name === 'promfork_store_read_errors_total');
  assert.equal(readErrors?.series[0]?.cells[0], 0, 'the file was skipped');
});

test('a rewrite of the file keeps its exemplars, and exemplars recorded after it', async (t) => {
  const { dir, writer, jobs } = exemplarWriter(t);
  const churn = new Gauge({
    name: 'churn',
    help: 'Churn',
    labelNames: ['id'],
    store: writer,
    registers: [],
  });
  jobs.inc({ labels: { kind: 'a' }, value: 1, exemplarLabels: { trace_id: 'before' } });
  await new Promise((resolve) => setImmediate(resolve));
  const path = join(dir, writer.fileName);
  const inode = statSync(path).ino;
  const generation = () => readFileSync(path).readUInt32LE(120);
  // Series that come and go until the writer rewrites its file without them.
  for (let round = 0; generation() === 0 && round < 200; round++) {
    for (let i = 0; i < 200; i++) churn.set({ id: `${round}-${i}-${'x'.repeat(40)}` }, i);
    churn.reset();
    await new Promise((resolve) => setImmediate(resolve));
  }
  assert.ok(generation() > 0, `no rewrite happened (inode ${inode})`);
  const reader = new FileStore({ dir, compactDeadProcesses: false });
  t.after(() => reader.close());
  assert.match(
    await openMetricsOf(reader),
    /^jobs_total\{kind="a"\} 1 # \{trace_id="before"\} 1 /m,
  );
  jobs.inc({ labels: { kind: 'a' }, value: 1, exemplarLabels: { trace_id: 'after' } });
  jobs.inc({ labels: { kind: 'b' }, value: 1, exemplarLabels: { trace_id: 'new' } });
  await new Promise((resolve) => setImmediate(resolve));
  const text = await openMetricsOf(reader);
  assert.match(text, /^jobs_total\{kind="a"\} 2 # \{trace_id="after"\} 1 /m, text);
  assert.match(text, /^jobs_total\{kind="b"\} 1 # \{trace_id="new"\} 1 /m, text);
});

test('a writer whose directory was removed recreates its file with its exemplars', async (t) => {
  const { dir, writer, jobs } = exemplarWriter(t);
  jobs.inc({ labels: { kind: 'a' }, value: 1, exemplarLabels: { trace_id: 'kept' } });
  writer.flush();
  rmSync(dir, { recursive: true, force: true });
  // The writer notices at a flush, at most once a second (FORMAT.md, "Rewrite"): keep flushing.
  const path = join(dir, writer.fileName);
  for (let i = 0; i < 100 && !existsSync(path); i++) {
    jobs.inc({ kind: 'b' });
    await sleep(50);
  }
  assert.ok(existsSync(path), 'the file was not recreated');
  const reader = new FileStore({ dir, compactDeadProcesses: false });
  t.after(() => reader.close());
  assert.match(await openMetricsOf(reader), /^jobs_total\{kind="a"\} 1 # \{trace_id="kept"\} 1 /m);
});

test('shareExemplars: false keeps exemplars in the process (no exemplar entry), as before', async (t) => {
  const registry = new Registry({ includeForeignFamilies: false });
  const { dir, writer, jobs } = exemplarWriter(t, { shareExemplars: false }, [registry]);
  assert.throws(() => new FileStore({ dir, shareExemplars: 'no' as never }), {
    code: 'PROMFORK_INVALID_OPTION',
  });
  jobs.inc({ labels: { kind: 'a' }, value: 1, exemplarLabels: { trace_id: 'own' } });
  writer.flush();
  assert.deepEqual(exemplarEntries(join(dir, writer.fileName)), []);
  // Its own scrape still shows it; another process's does not.
  const own = String((await registry.scrape(OPENMETRICS)).body);
  assert.match(own, /^jobs_total\{kind="a"\} 1 # \{trace_id="own"\} 1 /m);
  const reader = new FileStore({ dir, compactDeadProcesses: false });
  t.after(() => reader.close());
  assert.match(await openMetricsOf(reader), /^jobs_total\{kind="a"\} 1$/m);
});

/** Each exemplar on a bucket line whose value is above the bucket's bound (misplaced). */
function misplacedExemplars(text: string): string[] {
  const out: string[] = [];
  for (const m of text.matchAll(
    /^ex_latency_seconds_bucket\{[^}]*le="([^"]+)"\} \S+ # \{[^}]*\} (\S+)/gm,
  )) {
    if (Number(m[2]) > Number(m[1] === '+Inf' ? Infinity : m[1])) out.push(m[0]);
  }
  return out;
}

/** A fresh directory and an exemplar worker on it (`env` for the worker), both cleaned up. */
async function workerIn(
  t: TestContext,
  env: Record<string, string> = {},
): Promise<{ dir: string; w: Worker }> {
  const { dir, cleanup } = tempDir('promfork-ex-');
  t.after(cleanup);
  const w = new Worker(dir, 'exemplar-worker', env);
  t.after(() => w.kill());
  await w.ready;
  return { dir, w };
}

test('a later deploy re-buckets the histogram: exemplars of the old buckets are dropped, never misplaced', async (t) => {
  const { dir, w: old } = await workerIn(t);
  await record(old, 'o1', 0.05); // old le=0.1 (slot 0)
  await record(old, 'o2', 5); // old le=10 (slot 2)
  // A process of the next deploy, born later: its definition is the newest, with other bounds.
  await tick();
  const next = new Worker(dir, 'exemplar-worker', { EX_BUCKETS: '[0.01, 0.02, 0.03, 100]' });
  t.after(() => next.kill());
  await next.ready;
  await next.run({ op: 'plain', route: '/a', value: 0.015 });
  for (const w of [old, next]) {
    const text = await w.scrape(OPENMETRICS);
    assert.match(text, /^ex_latency_seconds_bucket\{route="\/a",le="0\.01"\} /m, text);
    assert.deepEqual(misplacedExemplars(text), [], `scraped from ${w.pid}:\n${text}`);
  }
});

test('a metric removed from its registry no longer gives its exemplars to the store (another metric of its name holds the series)', async (t) => {
  const { dir, cleanup } = tempDir('promfork-ex-');
  t.after(cleanup);
  const store = new FileStore({ dir, compactDeadProcesses: false });
  t.after(() => store.close());
  const registry = new Registry({ includeForeignFamilies: false });
  const options = {
    name: 'jobs_total',
    help: 'Jobs',
    labelNames: ['kind'],
    enableExemplars: true,
    store,
    registers: [registry],
  };
  const removed = new Counter(options);
  registry.removeSingleMetric('jobs_total');
  const current = new Counter(options);
  current.inc({ labels: { kind: 'a' }, value: 5, exemplarLabels: { trace_id: 'current' } });
  await tick();
  // Counted on detached cells (not in the store): its exemplar must not reach the store either.
  removed.inc({ labels: { kind: 'a' }, value: 1, exemplarLabels: { trace_id: 'ghost' } });
  await new Promise((resolve) => setImmediate(resolve));
  const own = String((await registry.scrape(OPENMETRICS)).body);
  assert.match(own, /^jobs_total\{kind="a"\} 5 # \{trace_id="current"\} 5 /m, own);
  const reader = new FileStore({ dir, compactDeadProcesses: false });
  t.after(() => reader.close());
  const other = await openMetricsOf(reader);
  assert.match(other, /^jobs_total\{kind="a"\} 5 # \{trace_id="current"\} 5 /m, other);
});

test('a dead process whose file is not compacted yet shows its counts, not its exemplars', async (t) => {
  const { dir, w: dead } = await workerIn(t);
  await record(dead, 'gone', 0.5);
  await dead.kill();
  // No compaction here (a primary may own it, or it is busy): the dead file stays in the view.
  const reader = new FileStore({ dir, compactDeadProcesses: false });
  t.after(() => reader.close());
  const registry = new Registry({ includeForeignFamilies: true });
  new Counter({ name: 'other_total', help: 'Other', store: reader, registers: [registry] });
  const text = String((await registry.scrape(OPENMETRICS)).body);
  assert.match(text, /^ex_requests_total\{route="\/a"\} 1$/m, text);
  assert.match(text, /^ex_latency_seconds_bucket\{route="\/a",le="\+Inf"\} 1$/m, text);
  assert.doesNotMatch(text, /trace_id="gone"/, text);
});

/** The OpenMetrics text of `ex_requests_total` and `ex_latency_seconds` as a reader sees them. */
async function readerScrape(t: TestContext, dir: string): Promise<string> {
  const reader = new FileStore({ dir, compactDeadProcesses: false });
  t.after(() => reader.close());
  const registry = new Registry({ includeForeignFamilies: true });
  new Counter({ name: 'other_total', help: 'Other', store: reader, registers: [registry] });
  return String((await registry.scrape(OPENMETRICS)).body);
}

test('flushIntervalMs holds exemplars like values, and a normal exit writes them', async (t) => {
  const { dir, w } = await workerIn(t, { PROMFORK_TEST_FLUSH_INTERVAL_MS: '10000' });
  await w.run({ op: 'record', route: '/a', value: 0.5, trace: 'held' });
  assert.doesNotMatch(await readerScrape(t, dir), /trace_id="held"/);
  // An exemplar longer than the records of its entry (a new entry) in the turn of the exit.
  void w.run({ op: 'recordAndExit', route: '/a', value: 5, trace: 'x'.repeat(60) });
  assert.equal((await w.exited).code, 0);
  const text = await readerScrape(t, dir);
  assert.match(text, /^ex_requests_total\{route="\/a"\} 2$/m, text);
  // Its process is dead now: its exemplars leave the scrape (see the test above), so the file
  // itself must hold them.
  const bytes = Buffer.concat(
    readdirSync(dir)
      .filter((n) => n.endsWith('.db'))
      .map((n) => readFileSync(join(dir, n))),
  );
  assert.ok(bytes.includes(Buffer.from('x'.repeat(60))), 'the exit wrote no exemplar');
  assert.ok(bytes.includes(Buffer.from('"held"')), 'the held exemplar was not written');
});

test('a worker thread writes its exemplars before it answers, though parked and terminated', async (t) => {
  const { dir, cleanup } = tempDir('promfork-ex-');
  t.after(cleanup);
  const thread = new Thread(
    `const { parentPort, workerData } = require('node:worker_threads');
     Promise.all([import(workerData.core), import(workerData.store)]).then(([core, fs]) => {
       const store = new fs.FileStore({ dir: workerData.dir, flushIntervalMs: 10000 });
       const counter = new core.Counter({ name: 'ex_requests_total', help: 'Requests',
         labelNames: ['route'], enableExemplars: true, store, registers: [] });
       counter.inc({ labels: { route: '/a' }, value: 1, exemplarLabels: { trace_id: 'thread' } });
       Promise.resolve().then(() => {
         parentPort.postMessage('done');
         Atomics.wait(new Int32Array(new SharedArrayBuffer(4)), 0, 0);
       });
     });`,
    {
      eval: true,
      workerData: {
        dir,
        core: new URL('../src/index.js', import.meta.url).href,
        store: new URL('../src/file-store/index.js', import.meta.url).href,
      },
    },
  );
  await once(thread, 'message');
  // Read while the thread is alive (parked), as a scrape during its pool's idle time would.
  const text = await readerScrape(t, dir);
  await thread.terminate();
  assert.match(text, /^ex_requests_total\{route="\/a"\} 1 # \{trace_id="thread"\} 1 /m, text);
});
