/**
 * One worker of the Fastify example. The metrics store is chosen by PROMETHEUS_MULTIPROC_DIR,
 * which the primary (or PM2) puts in the environment.
 */
import { runWorker } from '../shared/worker.js';
import { createApp } from './app.js';

await runWorker({
  defaultPort: 3002,
  start: async (host, port) => {
    const app = await createApp();
    await app.listen({ host, port });
    return { close: () => app.close() };
  },
});
