import assert from 'node:assert/strict';
import { createRequire } from 'node:module';
import { describe, it } from 'node:test';
import { mountTemplate, paramTemplate, readExpress4Mount } from '../src/layer-template.js';

// Express 4 compiles mount paths with its own copy of path-to-regexp 0.1.
const express4Require = createRequire(createRequire(import.meta.url).resolve('express4'));
const pathToRegexp = express4Require('path-to-regexp') as (
  path: unknown,
  keys: { name: string | number }[],
  options: object,
) => RegExp;

function mount(path: unknown): string {
  const keys: { name: string | number }[] = [];
  const regexp = pathToRegexp(path, keys, { end: false, strict: false, sensitive: false });
  return readExpress4Mount(regexp, keys);
}

describe('express/layer-template: Express 4 mounts read back from their RegExp', () => {
  it('reads the usual shapes exactly', () => {
    assert.equal(mount('/'), '');
    assert.equal(mount('/users'), '/users');
    assert.equal(mount('/users/'), '/users');
    assert.equal(mount('/:userId'), '/:userId');
    assert.equal(mount('/users/:id/posts'), '/users/:id/posts');
    assert.equal(mount('/:a/:b?'), '/:a/:b?');
    assert.equal(mount('/file.:ext'), '/file.:ext');
    assert.equal(mount('/u/:id(\\d+)'), '/u/:id');
    assert.equal(mount('/a.b'), '/a.b');
    assert.equal(mount('/files/*'), '/files/*');
    assert.equal(mount(['/a', '/b/:id']), '/a|/b/:id');
  });

  it('labels a RegExp mount or an unknown shape with the RegExp text', () => {
    assert.equal(mount(/^\/v\d+/i), String(/^\/v\d+/i));
    const odd = mount('/user(s)?');
    assert.match(odd, /^\/\^/);
  });
});

describe('express/layer-template: other layer shapes', () => {
  it('uses rawPath when the router keeps it (router >= 2.3)', () => {
    assert.equal(mountTemplate({ rawPath: '/users/' }), '/users');
    assert.equal(mountTemplate({ rawPath: '/' }), '');
    assert.equal(mountTemplate({ rawPath: ['/a', '/b'] }), '/a|/b');
    assert.equal(mountTemplate({ rawPath: /^\/x/ }), '/^\\/x/');
  });

  it('falls back to parameter substitution when the layer keeps neither (router < 2.3)', () => {
    assert.equal(mountTemplate({ path: '/users/7', params: { id: '7' } }), undefined);
    assert.equal(paramTemplate({ path: '/users/7', params: { id: '7' } }), '/users/:id');
    assert.equal(paramTemplate({ path: '/v1/1', params: { version: '1' } }), '/v1/:version');
    assert.equal(paramTemplate({ path: '/a%20b', params: { name: 'a b' } }), '/:name');
    assert.equal(paramTemplate({ path: '/static/', params: {} }), '/static');
  });
});
