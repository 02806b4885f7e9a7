/**
 * Rendering of a sample's label set, `{name="value",...}`, shared by both formats.
 *
 * Label values are written in the labels' own key order, escaped; numbers are written with
 * `String(value)` (as prom-client does), except the value of the family's numeric label (`le`
 * of a histogram, `quantile` of a summary), which each format writes its own way.
 *
 * Rendering is the hot part of a large scrape and allocation is what it costs, so
 * {@link SampleLabelRenderer} reuses work between consecutive samples of one series: the
 * samples of a histogram series (every bucket, `_sum`, `_count`) share all labels but `le`.
 */
import type { LabelValue } from '../types.js';
import { escapeLabelValue } from './escape.js';

function valueText(value: LabelValue): string {
  return typeof value === 'number' ? String(value) : value;
}

/**
 * How a label value given as a number is written by {@link renderLabelSet}. Strings are always
 * written as given (escaped); numbers go through this function.
 */
export type NumberLabelFormatter = (name: string, value: number) => string;

/** Default for ordinary labels: `String(value)`, as prom-client does for numeric label values. */
export const plainNumberLabel: NumberLabelFormatter = (_name, value) => String(value);

/**
 * Renders `{a="x",b="y"}` in key order, or the empty string when there are no labels.
 * `formatNumber` decides how numeric values are written; `rewrite`, when given, may replace
 * the text of any value. Used for exemplars and by render.ts.
 */
export function renderLabelSet(
  labels: Readonly<Record<string, LabelValue>>,
  formatNumber: NumberLabelFormatter = plainNumberLabel,
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

/** {@link renderLabelSet} with one label's value written by `formatSpecial`, in key order. */
function renderInOrder(
  labels: Readonly<Record<string, LabelValue>>,
  special: string | undefined,
  formatSpecial: (value: LabelValue) => string,
): string {
  let out = '';
  for (const name in labels) {
    const raw = labels[name] as LabelValue;
    const text = name === special ? formatSpecial(raw) : valueText(raw);
    out += `${out === '' ? '{' : ','}${name}="${escapeLabelValue(text)}"`;
  }
  return out === '' ? '' : `${out}}`;
}

/**
 * Renders the label sets of one family's samples, in order. Not shared between families or
 * renders: it remembers the previous sample's labels.
 */
export class SampleLabelRenderer {
  /** Labels of the previous sample that took the fast path. */
  private previous: Readonly<Record<string, LabelValue>> | undefined;
  /** Number of labels other than the special one in {@link previous}. */
  private previousCount = 0;
  /** `{a="x",b="y"` of {@link previous} without the special label (empty when none). */
  private previousOpen = '';
  /** `le="…"` fragments by value. */
  private readonly specialFragments = new Map<LabelValue, string>();

  /**
   * @param special the family's numeric label (`le`, `quantile`), if any.
   * @param formatSpecial how that label's value is written (before escaping).
   */
  constructor(
    private readonly special: string | undefined,
    private readonly formatSpecial: (value: LabelValue) => string,
  ) {}

  /** The rendered label set of `labels` (empty string when there are none). */
  render(labels: Readonly<Record<string, LabelValue>>): string {
    const special = this.special;
    const previous = this.previous;
    let count = 0;
    let same = previous !== undefined;
    let specialValue: LabelValue | undefined;
    let specialLast = false;
    for (const name in labels) {
      if (name === special) {
        specialValue = labels[name];
        specialLast = true;
        continue;
      }
      specialLast = false;
      count += 1;
      if (same && previous?.[name] !== labels[name]) same = false;
    }
    // The fast path keeps the special label last, where it was; otherwise render in order.
    if (specialValue !== undefined && !specialLast) {
      return renderInOrder(labels, special, this.formatSpecial);
    }
    let open: string;
    if (same && count === this.previousCount) {
      open = this.previousOpen;
    } else {
      open = '';
      for (const name in labels) {
        if (name === special) continue;
        open += `${open === '' ? '{' : ','}${name}="${escapeLabelValue(valueText(labels[name] as LabelValue))}"`;
      }
      this.previous = labels;
      this.previousCount = count;
      this.previousOpen = open;
    }
    if (specialValue === undefined) return open === '' ? '' : `${open}}`;
    return `${open === '' ? '{' : `${open},`}${this.fragment(specialValue)}}`;
  }

  private fragment(value: LabelValue): string {
    let fragment = this.specialFragments.get(value);
    if (fragment === undefined) {
      fragment = `${this.special}="${escapeLabelValue(this.formatSpecial(value))}"`;
      this.specialFragments.set(value, fragment);
    }
    return fragment;
  }
}
