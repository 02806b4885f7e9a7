/** End-to-end: the fastify cluster example as real processes (see helpers/cluster-scenario.ts). */
import { describeClusterScenario } from './helpers/cluster-scenario.js';

describeClusterScenario('fastify');
