/**
 * Peer libraries' names with their installed versions, for the results file.
 */
import { readFileSync } from 'node:fs';
import { createRequire } from 'node:module';

const require = createRequire(import.meta.url);

/** `name version` of an installed package, e.g. `prom-client 15.1.3`. */
export function peerName(pkg: string): string {
  try {
    const path = require.resolve(`${pkg}/package.json`);
    const { version } = JSON.parse(readFileSync(path, 'utf8')) as { version: string };
    return `${pkg} ${version}`;
  } catch {
    return pkg;
  }
}
