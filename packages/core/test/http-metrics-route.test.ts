import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { gunzipSync } from 'node:zlib';
import { acceptsGzip, MetricsRoute } from '../src/http/metrics-route.js';

const TEXT = { contentType: 'text/plain; version=0.0.4; charset=utf-8', body: 'a 1\n' };

function route(overrides: Partial<ConstructorParameters<typeof MetricsRoute<string>>[0]> = {}) {
  const errors: Error[] = [];
  const r = new MetricsRoute<string>({
    scrape: async () => TEXT,
    authorize: undefined,
    onError: (e) => errors.push(e),
    ...overrides,
  });
  return { r, errors };
}

const get = { method: 'GET', accept: undefined, acceptEncoding: undefined, req: 'req' };

describe('http/metrics-route: acceptsGzip', () => {
  it('reads codings and q-values', () => {
    assert.equal(acceptsGzip(undefined), false);
    assert.equal(acceptsGzip(''), false);
    assert.equal(acceptsGzip('gzip'), true);
    assert.equal(acceptsGzip('deflate, GZIP;q=0.5'), true);
    assert.equal(acceptsGzip('gzip;q=0'), false);
    assert.equal(acceptsGzip('*'), true);
    assert.equal(acceptsGzip('gzip;q=0, *'), false);
    assert.equal(acceptsGzip('br, identity'), false);
    assert.equal(acceptsGzip('gzip;q=abc'), false);
  });
});

describe('http/metrics-route: MetricsRoute', () => {
  it('serves the scrape with headers; gzips when asked', async () => {
    const { r } = route();
    const plain = await r.handle(get);
    assert.equal(plain.status, 200);
    assert.equal(plain.body, 'a 1\n');
    assert.equal(plain.headers['content-type'], TEXT.contentType);
    assert.equal(plain.headers['content-length'], '4');
    assert.equal(plain.headers.vary, 'Accept, Accept-Encoding');
    const zipped = await r.handle({ ...get, acceptEncoding: 'gzip' });
    assert.equal(zipped.headers['content-encoding'], 'gzip');
    assert.equal(gunzipSync(zipped.body as Buffer).toString(), 'a 1\n');
    assert.equal(zipped.headers['content-length'], String((zipped.body as Buffer).length));
  });

  it('passes Accept to the scrape', async () => {
    let seen: string | undefined;
    const { r } = route({
      scrape: (accept) => {
        seen = accept;
        return TEXT;
      },
    });
    await r.handle({ ...get, accept: 'application/openmetrics-text' });
    assert.equal(seen, 'application/openmetrics-text');
  });

  it('answers 405 to methods other than GET and HEAD', async () => {
    const { r } = route();
    assert.equal((await r.handle({ ...get, method: 'HEAD' })).status, 200);
    const post = await r.handle({ ...get, method: 'POST' });
    assert.equal(post.status, 405);
    assert.equal(post.headers.allow, 'GET, HEAD');
  });

  it('answers 403 when authorize denies, rejects or throws; reports the throw', async () => {
    const denied = route({ authorize: (req) => req === 'other' });
    assert.equal((await denied.r.handle(get)).status, 403);
    assert.equal((await denied.r.handle({ ...get, req: 'other' })).status, 200);
    const rejecting = route({ authorize: async () => Promise.reject(new Error('nope')) });
    assert.equal((await rejecting.r.handle(get)).status, 403);
    assert.equal(rejecting.errors[0]?.message, 'nope');
    const throwing = route({
      authorize: () => {
        throw 'str';
      },
    });
    assert.equal((await throwing.r.handle(get)).status, 403);
    assert.match(throwing.errors[0]?.message ?? '', /authorize threw: str/);
  });

  it('answers 500 with an empty body when the scrape fails, and reports it', async () => {
    const { r, errors } = route({
      scrape: () => {
        throw new Error('disk on fire');
      },
    });
    const res = await r.handle(get);
    assert.equal(res.status, 500);
    assert.equal(res.body, '');
    assert.equal(errors[0]?.message, 'disk on fire');
  });
});
