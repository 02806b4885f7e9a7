import assert from 'node:assert/strict';
import { after, describe, it } from 'node:test';
import { setFlagsFromString } from 'node:v8';
import { runInNewContext } from 'node:vm';
import {
  collectDefaultMetrics,
  DEFAULT_METRIC_NAMES,
  type DefaultMetrics,
} from '../src/default-metrics.js';
import { AlreadyRegisteredError, InvalidOptionError, PromforkError } from '../src/errors.js';
import type { Gauge } from '../src/gauge.js';
import { Registry } from '../src/registry.js';
import { type ParsedFamily, parseExposition } from './helpers/parse-exposition.js';
import { checkWithPromtool } from './helpers/promtool.js';

const started: DefaultMetrics[] = [];
after(() => {
  for (const handle of started) handle.stop();
});

function collect(registry: Registry, options: Record<string, unknown> = {}): DefaultMetrics {
  const handle = collectDefaultMetrics({ register: registry, ...options });
  started.push(handle);
  return handle;
}

async function scrape(registry: Registry): Promise<Map<string, ParsedFamily>> {
  const text = await registry.metrics();
  return new Map(parseExposition(text, 'prometheus').map((f) => [f.name, f]));
}

function value(families: Map<string, ParsedFamily>, name: string, labels = {}): number {
  const family = families.get(name);
  assert.ok(family !== undefined, `family ${name} is missing`);
  const sample = family.samples.find((s) =>
    Object.entries(labels).every(([k, v]) => s.labels[k] === v),
  );
  assert.ok(sample !== undefined, `${name} has no sample with ${JSON.stringify(labels)}`);
  return sample.value;
}

describe('collectDefaultMetrics', () => {
  it("registers prom-client's metric names with their types", async () => {
    const registry = new Registry();
    collect(registry);
    const families = await scrape(registry);
    for (const name of DEFAULT_METRIC_NAMES) {
      assert.ok(families.has(name), `${name} is not exported`);
    }
    assert.equal(families.size, DEFAULT_METRIC_NAMES.length);
    assert.equal(families.get('process_cpu_seconds_total')?.type, 'counter');
    assert.equal(families.get('process_cpu_user_seconds_total')?.type, 'counter');
    assert.equal(families.get('nodejs_gc_duration_seconds')?.type, 'histogram');
    assert.equal(families.get('process_resident_memory_bytes')?.type, 'gauge');
    assert.deepEqual(collectDefaultMetrics.metricsList, DEFAULT_METRIC_NAMES);
  });

  it('reports plausible values of this process', async () => {
    const registry = new Registry();
    const before = process.cpuUsage();
    collect(registry);
    const families = await scrape(registry);
    const after = process.cpuUsage();
    // CPU time counts from the process start, not from the call.
    const cpu = value(families, 'process_cpu_seconds_total');
    assert.ok(cpu >= (before.user + before.system) / 1e6, `cpu ${cpu}`);
    assert.ok(cpu <= (after.user + after.system) / 1e6, `cpu ${cpu}`);
    const user = value(families, 'process_cpu_user_seconds_total');
    const system = value(families, 'process_cpu_system_seconds_total');
    assert.ok(Math.abs(user + system - cpu) < 1e-9);
    const start = value(families, 'process_start_time_seconds');
    const expectedStart = Date.now() / 1000 - process.uptime();
    assert.ok(Math.abs(start - expectedStart) < 5, `start ${start} vs ${expectedStart}`);
    assert.ok(value(families, 'process_resident_memory_bytes') > 1e6);
    assert.ok(value(families, 'nodejs_heap_size_used_bytes') > 0);
    assert.ok(
      value(families, 'nodejs_heap_size_total_bytes') >=
        value(families, 'nodejs_heap_size_used_bytes'),
    );
    assert.ok(value(families, 'nodejs_heap_space_size_used_bytes', { space: 'old' }) > 0);
    assert.ok(value(families, 'nodejs_eventloop_lag_seconds') > 0);
    assert.equal(
      value(families, 'nodejs_version_info', {
        version: process.version,
        major: process.versions.node.split('.')[0],
      }),
      1,
    );
    if (process.platform === 'linux') {
      assert.ok(value(families, 'process_open_fds') > 0);
      assert.ok(value(families, 'process_max_fds') >= value(families, 'process_open_fds'));
      assert.ok(value(families, 'process_virtual_memory_bytes') > 0);
    }
    const resourcesTotal = value(families, 'nodejs_active_resources_total');
    const perType = families.get('nodejs_active_resources')!.samples;
    assert.equal(
      perType.reduce((sum, s) => sum + s.value, 0),
      resourcesTotal,
    );
  });

  it('CPU counters only grow between scrapes', async () => {
    const registry = new Registry();
    collect(registry);
    const first = value(await scrape(registry), 'process_cpu_seconds_total');
    let x = 0;
    for (let i = 0; i < 1e6; i++) x += Math.sqrt(i);
    assert.ok(x > 0);
    const second = value(await scrape(registry), 'process_cpu_seconds_total');
    assert.ok(second >= first);
  });

  it('applies prefix and labels to every series', async () => {
    const registry = new Registry();
    collect(registry, { prefix: 'app_', labels: { service: 'api', shard: 3 } });
    const families = await scrape(registry);
    for (const name of DEFAULT_METRIC_NAMES) {
      const family = families.get(`app_${name}`);
      assert.ok(family !== undefined, `app_${name} is missing`);
      for (const sample of family.samples) {
        assert.equal(sample.labels.service, 'api', `${sample.name} lacks the label`);
        assert.equal(sample.labels.shard, '3');
      }
    }
  });

  it('records GC pauses by kind with the given buckets', async () => {
    setFlagsFromString('--expose-gc');
    const gc = runInNewContext('gc') as () => void;
    const registry = new Registry();
    collect(registry, { gcDurationBuckets: [0.5, 10] });
    gc();
    // The observer is called asynchronously after the GC.
    let count = 0;
    for (let i = 0; i < 100 && count === 0; i++) {
      await new Promise((resolve) => setTimeout(resolve, 10));
      const family = (await scrape(registry)).get('nodejs_gc_duration_seconds')!;
      count = family.samples
        .filter((s) => s.name === 'nodejs_gc_duration_seconds_count' && s.labels.kind === 'major')
        .reduce((sum, s) => sum + s.value, 0);
    }
    assert.ok(count >= 1, 'no major GC was recorded');
    const family = (await scrape(registry)).get('nodejs_gc_duration_seconds')!;
    const bounds = new Set(family.samples.filter((s) => s.labels.le).map((s) => s.labels.le));
    assert.deepEqual([...bounds].sort(), ['+Inf', '0.5', '10']);
  });

  it('declares the multi-process merge of each metric', () => {
    const registry = new Registry();
    collect(registry);
    const mode = (name: string) =>
      (registry.getSingleMetric(name) as Gauge | undefined)?.multiprocessMode;
    for (const name of DEFAULT_METRIC_NAMES) {
      const metric = registry.getSingleMetric(name);
      assert.ok(metric !== undefined);
      if (metric.type === 'gauge' && name !== 'nodejs_version_info') {
        assert.equal(mode(name), 'liveall', name);
      }
    }
    assert.equal(mode('nodejs_version_info'), 'livemax');
    assert.equal(registry.getSingleMetric('process_cpu_seconds_total')?.type, 'counter');
  });

  it('produces an exposition promtool accepts', async (t) => {
    const registry = new Registry();
    collect(registry);
    checkWithPromtool(t, await registry.metrics(), 'prometheus', {
      // prom-client's names: nodejs_active_{handles,requests,resources}_total are gauges.
      allowLint: ['non-counter metrics should not have "_total" suffix'],
    });
  });

  it('rejects unknown and invalid options', () => {
    const registry = new Registry();
    const rejects = (options: unknown, code: string) =>
      assert.throws(
        () => collectDefaultMetrics({ register: registry, ...(options as object) }),
        (e) => e instanceof PromforkError && e.code === code,
        JSON.stringify(options),
      );
    rejects({ timeout: 5 }, 'PROMFORK_UNKNOWN_OPTION');
    rejects({ prefix: 3 }, 'PROMFORK_INVALID_OPTION');
    rejects({ labels: 'x' }, 'PROMFORK_INVALID_OPTION');
    rejects({ labels: { a: null } }, 'PROMFORK_INVALID_OPTION');
    rejects({ eventLoopMonitoringPrecision: 0 }, 'PROMFORK_INVALID_OPTION');
    rejects({ eventLoopMonitoringPrecision: 2.5 }, 'PROMFORK_INVALID_OPTION');
    rejects({ refreshIntervalSeconds: -1 }, 'PROMFORK_INVALID_OPTION');
    rejects({ gcDurationBuckets: 'fast' }, 'PROMFORK_INVALID_BUCKETS');
    rejects({ gcDurationBuckets: [2, 1] }, 'PROMFORK_INVALID_BUCKETS');
    rejects({ labels: { type: 'x' } }, 'PROMFORK_RESERVED_LABEL');
    rejects({ labels: { 'bad-name': 'x' } }, 'PROMFORK_INVALID_LABEL_NAME');
    rejects({ register: {} }, 'PROMFORK_INVALID_OPTION');
    assert.throws(() => collectDefaultMetrics(null as never), InvalidOptionError);
    // Nothing was registered by the rejected calls.
    assert.equal(registry.getMetricsAsArray().length, 0);
  });

  it('a second call on one registry throws before registering anything', () => {
    const registry = new Registry();
    collect(registry);
    const count = registry.getMetricsAsArray().length;
    assert.throws(() => collectDefaultMetrics({ register: registry }), AlreadyRegisteredError);
    assert.equal(registry.getMetricsAsArray().length, count);
    // Another prefix is another set of names.
    collect(registry, { prefix: 'second_' });
    assert.equal(registry.getMetricsAsArray().length, 2 * count);
  });

  it('stop() releases the monitors and may be called twice', async () => {
    const registry = new Registry();
    const handle = collect(registry);
    handle.stop();
    handle.stop();
    const families = await scrape(registry);
    assert.ok(families.has('process_cpu_seconds_total'));
  });
});
