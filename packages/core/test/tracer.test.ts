import assert from 'node:assert/strict';
import { afterEach, beforeEach, describe, it, mock } from 'node:test';
import { Counter } from '../src/counter.js';
import { InvalidOptionError, LabelSetError } from '../src/errors.js';
import { Registry } from '../src/registry.js';
import { Tracer, trace, trackDuration } from '../src/tracer.js';
import { parseExposition } from './helpers/parse-exposition.js';

/** A clock the test moves by hand, in milliseconds. */
class FakeClock {
  ms = 1_000_000;
  readonly now = () => this.ms;
  advance(seconds: number): void {
    this.ms += seconds * 1000;
  }
}

function setup(intervalSeconds = 1) {
  const clock = new FakeClock();
  const registry = new Registry();
  const counter = new Counter({
    name: 'job_seconds_total',
    help: 'Seconds spent in jobs.',
    labelNames: ['job'],
    registers: [registry],
  });
  const tracer = new Tracer({ intervalSeconds, now: clock.now });
  /** The counter's value for `job` as a scrape of the registry renders it. */
  const scraped = async (job: string) => {
    const text = await registry.metrics();
    const family = parseExposition(text, 'prometheus').find((f) => f.name === 'job_seconds_total');
    return family?.samples.find((s) => s.labels.job === job)?.value ?? 0;
  };
  return { clock, registry, counter, tracer, scraped };
}

describe('Tracer', () => {
  beforeEach(() => mock.timers.enable({ apis: ['setInterval'] }));
  afterEach(() => mock.timers.reset());

  it('adds elapsed time at every interval, not in one lump at the end', async () => {
    const s = setup(1);
    const job = s.tracer.track(s.counter, { job: 'reindex' });
    for (let i = 1; i <= 600; i++) {
      s.clock.advance(1);
      mock.timers.tick(1000);
      if (i % 100 === 0) assert.equal(await s.scraped('reindex'), i, `after ${i} s`);
    }
    s.clock.advance(0.25);
    assert.equal(job.end(), 600.25);
    assert.equal(await s.scraped('reindex'), 600.25);
  });

  it('a scrape sees the time elapsed up to the scrape', async () => {
    const { clock, tracer, counter, scraped } = setup(60);
    const job = tracer.track(counter, { job: 'a' });
    clock.advance(7.5);
    assert.equal(await scraped('a'), 7.5);
    assert.equal(job.recordedSeconds, 7.5);
    clock.advance(2.5);
    assert.equal((await counter.get()).values[0]?.value, 10);
    clock.advance(1);
    assert.equal(job.end(), 11);
    assert.equal(await scraped('a'), 11);
  });

  it('ending adds only the remainder and the total equals the elapsed time exactly', async () => {
    const { clock, tracer, counter, scraped } = setup(1);
    const job = tracer.track(counter, { job: 'irregular' });
    // Irregular flush times whose seconds are not exact in binary.
    const steps = [0.1, 0.7, 1.3, 0.003, 2.9, 0.11, 5.03];
    for (const step of steps) {
      clock.advance(step);
      job.flush();
    }
    clock.advance(0.07);
    const expected = (clock.ms - 1_000_000) / 1000;
    assert.equal(job.end(), expected);
    assert.ok(Math.abs((await scraped('irregular')) - expected) < 1e-9);
    // Ending again and later scrapes add nothing.
    clock.advance(100);
    assert.equal(job.end(), expected);
    job.flush();
    mock.timers.tick(5000);
    assert.ok(Math.abs((await scraped('irregular')) - expected) < 1e-9);
    assert.ok(job.ended);
  });

  it('tracks concurrent jobs separately and stops its timer when none run', async () => {
    const { clock, tracer, counter, scraped } = setup(1);
    const a = tracer.track(counter, { job: 'a' });
    clock.advance(1);
    const b = tracer.track(counter, { job: 'b' });
    assert.equal(tracer.activeJobs, 2);
    clock.advance(1);
    mock.timers.tick(1000);
    assert.equal(await scraped('a'), 2);
    assert.equal(await scraped('b'), 1);
    a.end();
    b.end();
    assert.equal(tracer.activeJobs, 0);
    const c = tracer.track(counter, { job: 'a' });
    clock.advance(3);
    c.end();
    assert.equal(await scraped('a'), 5);
  });

  it('a clock going backwards never subtracts', async () => {
    const { clock, tracer, counter, scraped } = setup(1);
    const job = tracer.track(counter, { job: 'x' });
    clock.advance(5);
    job.flush();
    clock.advance(-3);
    job.flush();
    assert.equal(await scraped('x'), 5);
    clock.advance(4);
    assert.equal(job.end(), 6);
  });

  it('trace() ends the job when a function returns or throws', async () => {
    const { clock, tracer, counter, scraped } = setup(1);
    const result = tracer.trace(counter, { job: 'sync' }, () => {
      clock.advance(2);
      return 'done';
    });
    assert.equal(result, 'done');
    assert.throws(
      () =>
        tracer.trace(counter, { job: 'sync' }, () => {
          clock.advance(3);
          throw new Error('boom');
        }),
      /boom/,
    );
    assert.equal(await scraped('sync'), 5);
    assert.equal(tracer.activeJobs, 0);
  });

  it('trace() ends the job when a promise settles, counting while it runs', async () => {
    const { clock, tracer, counter, scraped } = setup(1);
    let finish!: (value: number) => void;
    const running = tracer.trace(
      counter,
      { job: 'async' },
      () => new Promise<number>((resolve) => (finish = resolve)),
    );
    clock.advance(4);
    assert.equal(await scraped('async'), 4);
    clock.advance(1);
    finish(42);
    assert.equal(await running, 42);
    assert.equal(await scraped('async'), 5);
    const failing = tracer.trace(counter, { job: 'async' }, async () => {
      clock.advance(1);
      throw new Error('nope');
    });
    await assert.rejects(failing, /nope/);
    assert.equal(await scraped('async'), 6);
    assert.equal(tracer.activeJobs, 0);
  });

  it('checks labels when the job starts and options when the tracer is made', () => {
    const { tracer, counter } = setup(1);
    assert.throws(() => tracer.track(counter, { wrong: 'x' } as never), LabelSetError);
    assert.throws(() => tracer.track(counter), LabelSetError);
    assert.equal(tracer.activeJobs, 0);
    for (const options of [{ intervalSeconds: 0 }, { intervalSeconds: Number.NaN }, { now: 5 }]) {
      assert.throws(
        () => new Tracer(options as never),
        (e) => e instanceof InvalidOptionError && e.code === 'PROMFORK_INVALID_OPTION',
      );
    }
    assert.throws(
      () => new Tracer({ interval: 1 } as never),
      (e) => e instanceof InvalidOptionError && e.code === 'PROMFORK_UNKNOWN_OPTION',
    );
  });

  it('reports background failures through onError instead of throwing', () => {
    const clock = new FakeClock();
    const errors: unknown[] = [];
    const tracer = new Tracer({ now: clock.now, onError: (e) => errors.push(e) });
    const failing = {
      labels: () => undefined,
      inc: () => {
        throw new Error('store closed');
      },
      addCollectHook: () => () => {},
    };
    tracer.track(failing as never);
    clock.advance(1);
    mock.timers.tick(1000);
    assert.equal(errors.length, 1);
  });

  it('trackDuration() and trace() use a default tracer on the real clock', async () => {
    const registry = new Registry();
    const counter = new Counter({ name: 'work_seconds_total', help: 'w', registers: [registry] });
    const job = trackDuration(counter);
    const total = job.end();
    assert.ok(total >= 0);
    assert.equal(await trace(counter, undefined, async () => 'ok'), 'ok');
    const value = (await counter.get()).values[0]?.value ?? -1;
    assert.ok(value >= total);
  });
});
