/**
 * Settings of the example clusters, read once from the command line and the environment.
 *
 * Every setting can come from a flag (`--port 0`) or an environment variable (`PORT=0`); a
 * flag wins. Bad values stop the program with a message naming the value, never a silent
 * default: `PORT=abc` is an error, `PORT=0` means "any free port".
 */
import { parseArgs } from 'node:util';

/** What a cluster example needs to start. */
export interface ClusterConfig {
  /** Address the workers listen on. @default '127.0.0.1' */
  readonly host: string;
  /** TCP port; 0 lets the operating system choose one, shared by every worker. */
  readonly port: number;
  /** Number of worker processes. @default 4 */
  readonly workers: number;
  /**
   * The multi-process directory from `--dir` or `PROMETHEUS_MULTIPROC_DIR`; undefined when
   * neither is set (the primary then creates a fresh temporary directory).
   */
  readonly dir: string | undefined;
}

/** Raised for a flag or environment value an example cannot use. */
export class ConfigError extends Error {
  override readonly name = 'ConfigError';
}

/** Defaults that differ between the examples (each gets its own port so all three can run). */
export interface ConfigDefaults {
  readonly port: number;
  /** @default 4 */
  readonly workers?: number;
}

function parseInteger(what: string, raw: string, min: number, max: number): number {
  // Number('') is 0 and Number('1e3') is 1000: accept plain decimal digits only.
  if (!/^[0-9]+$/.test(raw)) {
    throw new ConfigError(
      `${what} must be an integer from ${min} to ${max}, got ${JSON.stringify(raw)}`,
    );
  }
  const value = Number(raw);
  if (value < min || value > max) {
    throw new ConfigError(`${what} must be an integer from ${min} to ${max}, got ${raw}`);
  }
  return value;
}

/**
 * Reads `--port`/`PORT`, `--workers`/`WORKERS`, `--host`/`HOST` and
 * `--dir`/`PROMETHEUS_MULTIPROC_DIR`. Unknown flags are rejected.
 */
export function readClusterConfig(
  defaults: ConfigDefaults,
  argv: readonly string[] = process.argv.slice(2),
  env: NodeJS.ProcessEnv = process.env,
): ClusterConfig {
  let parsed: ReturnType<typeof parseFlags>;
  try {
    parsed = parseFlags(argv);
  } catch (error) {
    throw new ConfigError((error as Error).message);
  }
  const flags = parsed.values;
  const portRaw = flags.port ?? env.PORT;
  const workersRaw = flags.workers ?? env.WORKERS;
  const host = flags.host ?? env.HOST ?? '127.0.0.1';
  if (host === '') throw new ConfigError('HOST must not be empty');
  const dir = flags.dir ?? env.PROMETHEUS_MULTIPROC_DIR;
  if (dir === '') {
    throw new ConfigError(
      'PROMETHEUS_MULTIPROC_DIR is set but empty; unset it or name a directory',
    );
  }
  return {
    host,
    port: portRaw === undefined ? defaults.port : parseInteger('PORT', portRaw, 0, 65535),
    workers:
      workersRaw === undefined
        ? (defaults.workers ?? 4)
        : parseInteger('WORKERS', workersRaw, 1, 64),
    dir,
  };
}

function parseFlags(argv: readonly string[]) {
  return parseArgs({
    args: [...argv],
    strict: true,
    allowPositionals: false,
    options: {
      port: { type: 'string' },
      workers: { type: 'string' },
      host: { type: 'string' },
      dir: { type: 'string' },
    },
  });
}
