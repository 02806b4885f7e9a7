/**
 * The entry point each cluster example's server.ts calls: read the configuration, run the
 * primary until SIGINT/SIGTERM, exit with its status.
 */
import { ConfigError, readClusterConfig } from './config.js';
import { runPrimaryProgram } from './primary.js';

/** What differs between the examples. */
export interface ExampleDefinition {
  /** Name in log lines and in the temporary directory's name. */
  readonly name: string;
  /** Port when neither --port nor PORT is given. */
  readonly defaultPort: number;
  /** Absolute path of the compiled worker script. */
  readonly workerScript: string;
}

/** Runs an example's primary as the program. Exits 2 on a bad flag or environment value. */
export async function runExample(example: ExampleDefinition): Promise<void> {
  let config: ReturnType<typeof readClusterConfig>;
  try {
    config = readClusterConfig({ port: example.defaultPort });
  } catch (error) {
    if (!(error instanceof ConfigError)) throw error;
    console.error(`${example.name} example: ${error.message}`);
    console.error('usage: [--port N] [--workers N] [--host ADDRESS] [--dir PATH]');
    process.exit(2);
  }
  await runPrimaryProgram({ name: example.name, workerScript: example.workerScript, config });
}
