// PM2 cluster mode: PM2 is the primary and runs the worker script 4 times; promfork needs no
// code in the primary, only PROMETHEUS_MULTIPROC_DIR in every worker's environment. Workers
// of a previous run and workers PM2 replaced are compacted by the live workers (their
// counters and histograms are kept, their per-process gauges dropped).
//
//   npm run build
//   pm2 start examples/pm2/ecosystem.config.cjs
//   curl http://127.0.0.1:3000/metrics
//   pm2 delete promfork-express
//
// The directory must be private to this app (one directory per app, never shared between two
// apps) and on a local disk; /dev/shm (memory-backed) is a good choice on Linux.
const path = require('node:path');

module.exports = {
  apps: [
    {
      name: 'promfork-express',
      script: path.join(__dirname, '..', 'dist', 'express-cluster', 'worker.js'),
      exec_mode: 'cluster',
      instances: 4,
      // The worker exits 0 after finishing open requests on SIGINT, PM2's stop signal.
      kill_timeout: 5000,
      env: {
        HOST: '127.0.0.1',
        PORT: '3000',
        PROMETHEUS_MULTIPROC_DIR: '/tmp/promfork-pm2-express',
      },
    },
  ],
};
