import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import {
  INVALID_STATUS,
  joinRoute,
  normalizeMethod,
  OTHER_METHOD,
  statusLabel,
} from '../src/http/route.js';

describe('http/route: normalizeMethod', () => {
  it('keeps methods Node knows, upper-cased', () => {
    assert.equal(normalizeMethod('GET'), 'GET');
    assert.equal(normalizeMethod('get'), 'GET');
    assert.equal(normalizeMethod('PROPFIND'), 'PROPFIND');
    assert.equal(normalizeMethod('M-SEARCH'), 'M-SEARCH');
  });

  it('collapses everything else into #other', () => {
    for (const odd of ['FOO', '', 'GET ', 'G\u0000T', 'x'.repeat(10_000), undefined, 42, null]) {
      assert.equal(normalizeMethod(odd), OTHER_METHOD, String(odd).slice(0, 20));
    }
  });
});

describe('http/route: statusLabel', () => {
  it('gives the exact code or its class', () => {
    assert.equal(statusLabel(200, false), '200');
    assert.equal(statusLabel(404, true), '4xx');
    assert.equal(statusLabel(999, false), '999');
  });

  it('maps anything that is not an integer in 100..999 to #invalid', () => {
    for (const bad of [0, 99, 1000, 200.5, -1, Number.NaN, '200', undefined]) {
      assert.equal(statusLabel(bad, false), INVALID_STATUS, String(bad));
      assert.equal(statusLabel(bad, true), INVALID_STATUS, String(bad));
    }
  });
});

describe('http/route: joinRoute', () => {
  it('joins a prefix and a template like a router resolves them', () => {
    assert.equal(joinRoute('', '/users'), '/users');
    assert.equal(joinRoute('', ''), '/');
    assert.equal(joinRoute('/users', '/:id'), '/users/:id');
    assert.equal(joinRoute('/users', '/'), '/users');
    assert.equal(joinRoute('/users/', '/:id'), '/users/:id');
    assert.equal(joinRoute('/users', ':id'), '/users/:id');
    assert.equal(joinRoute('/', '/x'), '/x');
  });
});
