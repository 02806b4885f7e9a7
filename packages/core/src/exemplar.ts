/**
 * Exemplars (OpenMetrics): a sample of the trace that caused an increment or an observation.
 * The metric keeps the latest one per counter series and per histogram bucket on the child, and
 * hands it to its store (`Store.exemplar`): a FileStore writes it to its process file so that
 * whichever process is scraped shows the latest exemplar of every process (file-store/
 * exemplar-entry.ts). They are per-event examples, not aggregatable numbers: merging keeps the
 * latest by timestamp.
 */
import { describeValue, LabelSetError } from './errors.js';
import type { Exemplar } from './types.js';
import { labelValueString } from './validation.js';

/** OpenMetrics caps the label names and values of one exemplar at 128 UTF-8 characters together. */
export const EXEMPLAR_MAX_CHARS = 128;

const LABEL_NAME = /^[a-zA-Z_][a-zA-Z0-9_]*$/;

/**
 * Validates exemplar labels and returns an exemplar stamped with the current time.
 * Throws PROMFORK_INVALID_EXEMPLAR for a bad name, a bad value or a set over 128 characters.
 */
export function makeExemplar(labels: unknown, value: number, metric: string): Exemplar {
  return { labels: exemplarLabelSet(labels, metric), value, timestamp: Date.now() / 1000 };
}

/**
 * The exemplar labels `labels` as strings, checked as {@link makeExemplar} checks them (also
 * for exemplars read back from another process's file, which is untrusted input).
 * Throws PROMFORK_INVALID_EXEMPLAR.
 */
export function exemplarLabelSet(labels: unknown, metric: string): Record<string, string> {
  if (typeof labels !== 'object' || labels === null || Array.isArray(labels)) {
    throw new LabelSetError(
      'PROMFORK_INVALID_EXEMPLAR',
      `Invalid exemplarLabels ${describeValue(labels)} for metric "${metric}": expected an object of label values`,
    );
  }
  const out: Record<string, string> = {};
  let chars = 0;
  for (const [name, raw] of Object.entries(labels)) {
    if (!LABEL_NAME.test(name)) {
      throw new LabelSetError(
        'PROMFORK_INVALID_EXEMPLAR',
        `Invalid exemplar label name ${describeValue(name)} for metric "${metric}": expected [a-zA-Z_][a-zA-Z0-9_]*`,
      );
    }
    let text: string;
    try {
      text = labelValueString(raw, name, metric);
    } catch {
      throw new LabelSetError(
        'PROMFORK_INVALID_EXEMPLAR',
        `Invalid value ${describeValue(raw)} for exemplar label "${name}" of metric "${metric}": expected a string or a finite number`,
      );
    }
    // An assignment to `__proto__` would set the prototype instead, dropping the label.
    if (name === '__proto__') {
      Object.defineProperty(out, name, {
        value: text,
        enumerable: true,
        writable: true,
        configurable: true,
      });
    } else out[name] = text;
    chars += [...name].length + [...text].length;
  }
  if (chars > EXEMPLAR_MAX_CHARS) {
    throw new LabelSetError(
      'PROMFORK_INVALID_EXEMPLAR',
      `Exemplar labels of metric "${metric}" have ${chars} characters: expected at most ${EXEMPLAR_MAX_CHARS} (names and values together)`,
    );
  }
  return out;
}

/**
 * The later of two exemplars by timestamp (`a` on ties and when neither has one): what merging
 * processes keeps per counter series and histogram bucket.
 */
export function laterExemplar(
  a: Exemplar | undefined,
  b: Exemplar | undefined,
): Exemplar | undefined {
  if (a === undefined) return b;
  if (b === undefined) return a;
  return (b.timestamp ?? 0) > (a.timestamp ?? 0) ? b : a;
}
