/**
 * `http.koa.added_cpu`: server CPU per request added by @promfork/koa over a bare koa app,
 * against prometheus-api-metrics. See lib/http.ts for the method.
 */
import { runHttp } from './lib/http.js';
import { peerName } from './lib/peers.js';
import type { Scenario } from './lib/types.js';

/** The scenario. */
export const scenario: Scenario = {
  name: 'http.koa.added_cpu',
  method:
    'server CPU (utime+stime from /proc) per request over a bare koa app, autocannon on 127.0.0.1 with 10 connections, server and load on different cores; median of rounds; ours on the FileStore vs prometheus-api-metrics.',
  run: (context) => runHttp('koa', peerName('prometheus-api-metrics'), context),
};
