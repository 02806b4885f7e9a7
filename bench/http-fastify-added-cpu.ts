/**
 * `http.fastify.added_cpu`: server CPU per request added by @promfork/fastify over a bare fastify app,
 * against fastify-metrics. See lib/http.ts for the method.
 */
import { runHttp } from './lib/http.js';
import { peerName } from './lib/peers.js';
import type { Scenario } from './lib/types.js';

/** The scenario. */
export const scenario: Scenario = {
  name: 'http.fastify.added_cpu',
  method:
    'server CPU (utime+stime from /proc) per request over a bare fastify app, autocannon on 127.0.0.1 with 10 connections, server and load on different cores; median of rounds; ours on the FileStore vs fastify-metrics.',
  run: (context) => runHttp('fastify', peerName('fastify-metrics'), context),
};
