/**
 * The Fastify cluster example: `node examples/dist/fastify-cluster/server.js`.
 *
 * The same primary as the Express example (examples/shared/primary.ts), with Fastify workers
 * on 127.0.0.1:PORT (default 3002; 0 picks a free port).
 */
import { fileURLToPath } from 'node:url';
import { runExample } from '../shared/main.js';

await runExample({
  name: 'fastify',
  defaultPort: 3002,
  workerScript: fileURLToPath(new URL('./worker.js', import.meta.url)),
});
