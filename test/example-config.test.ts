/**
 * The examples' flag and environment reader: zero values work (PORT=0), bad values and
 * unknown flags are rejected with a message naming them, never replaced by a default.
 */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import type * as ConfigModule from '../examples/shared/config.js';
import type * as ExemplarsModule from '../examples/shared/exemplars.js';
import type * as MetricsOptionsModule from '../examples/shared/metrics-options.js';
import type * as RoutesModule from '../examples/shared/routes.js';

// The compiled example, loaded by URL: this file runs from test/dist, the examples' output is
// examples/dist (the type-only import above is checked against the examples project).
const { ConfigError, readClusterConfig } = (await import(
  new URL('../../examples/dist/shared/config.js', import.meta.url).href
)) as typeof ConfigModule;
const { exampleMetricsOptions } = (await import(
  new URL('../../examples/dist/shared/metrics-options.js', import.meta.url).href
)) as typeof MetricsOptionsModule;
const { traceIdOf } = (await import(
  new URL('../../examples/dist/shared/exemplars.js', import.meta.url).href
)) as typeof ExemplarsModule;
const { delayReply, MAX_DELAY_MS } = (await import(
  new URL('../../examples/dist/shared/routes.js', import.meta.url).href
)) as typeof RoutesModule;

const defaults = { port: 3000 };

describe('readClusterConfig', () => {
  it('uses the defaults when nothing is set', () => {
    assert.deepEqual(readClusterConfig(defaults, [], {}), {
      host: '127.0.0.1',
      port: 3000,
      workers: 4,
      dir: undefined,
    });
  });

  it('accepts PORT=0 (any free port) and reads every variable', () => {
    const env = { PORT: '0', WORKERS: '2', HOST: '::1', PROMETHEUS_MULTIPROC_DIR: '/tmp/x' };
    assert.deepEqual(readClusterConfig(defaults, [], env), {
      host: '::1',
      port: 0,
      workers: 2,
      dir: '/tmp/x',
    });
  });

  it('lets a flag win over the environment', () => {
    const config = readClusterConfig(defaults, ['--port', '0', '--workers=3', '--dir', '/d'], {
      PORT: '8080',
      WORKERS: '9',
      PROMETHEUS_MULTIPROC_DIR: '/e',
    });
    assert.equal(config.port, 0);
    assert.equal(config.workers, 3);
    assert.equal(config.dir, '/d');
  });

  for (const [env, message] of [
    [{ PORT: 'abc' }, /PORT must be an integer from 0 to 65535, got "abc"/],
    [{ PORT: '' }, /PORT must be an integer from 0 to 65535, got ""/],
    [{ PORT: '1e3' }, /got "1e3"/],
    [{ PORT: '65536' }, /got 65536/],
    [{ WORKERS: '0' }, /WORKERS must be an integer from 1 to 64, got 0/],
    [{ WORKERS: '-1' }, /WORKERS must be an integer from 1 to 64, got "-1"/],
    [{ PROMETHEUS_MULTIPROC_DIR: '' }, /PROMETHEUS_MULTIPROC_DIR is set but empty/],
    [{ HOST: '' }, /HOST must not be empty/],
  ] as const) {
    it(`rejects ${JSON.stringify(env)}`, () => {
      assert.throws(
        () => readClusterConfig(defaults, [], env),
        (error: Error) => {
          assert.ok(error instanceof ConfigError);
          assert.match(error.message, message);
          return true;
        },
      );
    });
  }

  it('rejects an unknown flag and a positional argument', () => {
    assert.throws(() => readClusterConfig(defaults, ['--prot', '1'], {}), ConfigError);
    assert.throws(() => readClusterConfig(defaults, ['3000'], {}), ConfigError);
  });
});

describe('exampleMetricsOptions (PROMFORK_NATIVE_HISTOGRAMS)', () => {
  it('keeps classic buckets only by default and with 0', () => {
    assert.deepEqual(exampleMetricsOptions({}), { inFlight: true });
    assert.deepEqual(exampleMetricsOptions({ PROMFORK_NATIVE_HISTOGRAMS: '0' }), {
      inFlight: true,
    });
  });

  it('turns native histograms on with 1', () => {
    assert.deepEqual(exampleMetricsOptions({ PROMFORK_NATIVE_HISTOGRAMS: '1' }), {
      inFlight: true,
      nativeHistogram: true,
    });
  });

  for (const raw of ['', 'yes', 'true', '2']) {
    it(`rejects ${JSON.stringify(raw)}`, () => {
      assert.throws(
        () => exampleMetricsOptions({ PROMFORK_NATIVE_HISTOGRAMS: raw }),
        (error: Error) => {
          assert.ok(error instanceof ConfigError);
          assert.match(error.message, /PROMFORK_NATIVE_HISTOGRAMS must be 0 or 1/);
          return true;
        },
      );
    });
  }
});

describe('exampleMetricsOptions (PROMFORK_EXEMPLARS)', () => {
  it('records no exemplars by default and with 0', () => {
    assert.equal(exampleMetricsOptions({}).exemplarLabels, undefined);
    assert.equal(exampleMetricsOptions({ PROMFORK_EXEMPLARS: '0' }).exemplarLabels, undefined);
  });

  it('with 1, labels each request with the trace id of its traceparent (else a random one) and the pid', () => {
    const { exemplarLabels } = exampleMetricsOptions({ PROMFORK_EXEMPLARS: '1' });
    assert.ok(exemplarLabels !== undefined);
    const trace = '4bf92f3577b34da6a3ce929d0e0e4736';
    const traced = { headers: { traceparent: `00-${trace}-00f067aa0ba902b7-01` } };
    assert.deepEqual(exemplarLabels(traced, {}), { trace_id: trace, pid: String(process.pid) });
    const untraced = exemplarLabels({ headers: {} }, {});
    assert.match(String(untraced?.trace_id), /^[0-9a-f]{32}$/);
    assert.equal(traceIdOf({ headers: { traceparent: 'garbage' } }).length, 32);
  });

  for (const raw of ['', 'yes', '2']) {
    it(`rejects ${JSON.stringify(raw)}`, () => {
      assert.throws(
        () => exampleMetricsOptions({ PROMFORK_EXEMPLARS: raw }),
        /PROMFORK_EXEMPLARS must be 0 or 1/,
      );
    });
  }
});

describe('GET /delay?ms=N', () => {
  it('waits at least N ms by the monotonic clock', async () => {
    const start = performance.now();
    const reply = await delayReply('30');
    assert.equal(reply.status, 200);
    assert.ok(performance.now() - start >= 30);
  });

  for (const raw of [undefined, '', '-1', '1.5', '1e3', ['5', '6'], String(MAX_DELAY_MS + 1)]) {
    it(`answers 400 for ms=${JSON.stringify(raw)}`, async () => {
      assert.equal((await delayReply(raw)).status, 400);
    });
  }
});
