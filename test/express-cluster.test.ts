/** End-to-end: the express cluster example as real processes (see helpers/cluster-scenario.ts). */
import { describeClusterScenario } from './helpers/cluster-scenario.js';

describeClusterScenario('express');
