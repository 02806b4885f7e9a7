/**
 * Rendering of a sample's label set, `{name="value",...}`, shared by both formats.
 */
import type { LabelValue } from '../types.js';
import { escapeLabelValue } from './escape.js';

/**
 * How a label value given as a number is written. Strings are always written as given
 * (escaped); numbers go through this function.
 */
export type NumberLabelFormatter = (name: string, value: number) => string;

/** Default for ordinary labels: `String(value)`, as prom-client does for numeric label values. */
export const plainNumberLabel: NumberLabelFormatter = (_name, value) => String(value);

/**
 * Renders `{a="x",b="y"}` in the labels' own key order, or the empty string when there are no
 * labels. `formatNumber` decides how numeric values are written (see {@link NumberLabelFormatter});
 * `rewrite`, when given, may replace the text of any value (used for canonical `le`/`quantile`).
 */
export function renderLabelSet(
  labels: Readonly<Record<string, LabelValue>>,
  formatNumber: NumberLabelFormatter,
  rewrite?: (name: string, value: string) => string,
): string {
  let out = '';
  for (const name in labels) {
    const raw = labels[name] as LabelValue;
    let text = typeof raw === 'number' ? formatNumber(name, raw) : raw;
    if (rewrite !== undefined) text = rewrite(name, text);
    out += `${out === '' ? '{' : ','}${name}="${escapeLabelValue(text)}"`;
  }
  return out === '' ? '' : `${out}}`;
}
