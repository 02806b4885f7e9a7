#!/usr/bin/env node
// Regenerates the protobuf decoder the exposition tests use
// (packages/core/test/proto/gen/…/metrics_pb.ts) from the committed metrics.proto, with the
// buf CLI and protoc-gen-es from devDependencies: both come from the npm packages, so this
// runs offline. The generated file is committed; run this after changing metrics.proto.
import { spawnSync } from 'node:child_process';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

const root = join(dirname(fileURLToPath(import.meta.url)), '..');
const protoDir = join('packages', 'core', 'test', 'proto');
const bin = join(root, 'node_modules', '.bin');
const result = spawnSync(
  join(bin, 'buf'),
  ['generate', protoDir, '--template', join(protoDir, 'buf.gen.yaml'), '-o', protoDir],
  {
    cwd: root,
    stdio: 'inherit',
    // buf finds the `local: protoc-gen-es` plugin on PATH.
    env: { ...process.env, PATH: `${bin}:${process.env.PATH ?? ''}` },
  },
);
process.exit(result.status ?? 1);
