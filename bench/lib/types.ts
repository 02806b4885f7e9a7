/**
 * Shapes shared by the benchmark runner and its scenarios.
 */

/** One line of `bench/results.json`. `ratio = ours / peer`; lower is better. */
export interface BenchResult {
  readonly id: string;
  /** `ns/op`, `ms`, `µs/req` or `ratio`. */
  readonly unit: string;
  /** promfork's figure; null when it could not be measured (the docs say why). */
  readonly ours: number | null;
  /** The peer's figure; null when the peer failed (e.g. timed out) or there is none. */
  readonly peer: number | null;
  /** Which peer, e.g. `prom-client 15.1.3`; empty when there is none. */
  readonly peerName: string;
  readonly ratio: number | null;
}

/** What the runner hands each scenario. */
export interface ScenarioContext {
  /** `--quick`: fewer rounds and smaller counts, the whole suite within about 3 minutes. */
  readonly quick: boolean;
  /** Progress line on stderr. */
  log(line: string): void;
  /** Records a note for docs/benchmarks.md (failures, skipped parts, what was checked). */
  note(id: string, text: string): void;
  /** Says what limits a figure; shown in docs/benchmarks.md only when its goal is missed. */
  limit(id: string, text: string): void;
}

/** One benchmark scenario (one file per scenario under bench/). */
export interface Scenario {
  /** Group name used by `--only`. */
  readonly name: string;
  /** How the figure is taken, for docs/benchmarks.md. */
  readonly method: string;
  run(context: ScenarioContext): Promise<BenchResult[]>;
}

/** Builds a result, computing the ratio when both figures exist. */
export function result(
  id: string,
  unit: string,
  ours: number | null,
  peer: number | null,
  peerName: string,
): BenchResult {
  const ratio = ours !== null && peer !== null && peer > 0 ? ours / peer : null;
  return { id, unit, ours, peer, peerName, ratio };
}
