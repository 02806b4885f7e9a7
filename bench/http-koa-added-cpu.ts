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
    'server CPU per request over a bare koa app (process.cpuUsage() read inside each server over IPC, µs resolution), autocannon on 127.0.0.1 with 10 connections per server, the servers loaded at once each round, servers and load on different cores; median over rounds of the difference with the bare server in the same round; ours on the FileStore (and on the MemoryStore as .memory) vs prometheus-api-metrics.',
  run: (context) => runHttp('koa', peerName('prometheus-api-metrics'), context),
};
