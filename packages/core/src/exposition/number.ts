/**
 * Number rendering for sample values, timestamps and the numeric label values `le` and
 * `quantile`. JavaScript's `String(number)` is almost right for both formats; this file fixes
 * the cases where it is not.
 */

/**
 * Renders a sample value for either format.
 *
 * - `+Inf`, `-Inf` and `NaN` are spelled as Prometheus spells them.
 * - `-0` keeps its sign (`-0`), as Go and Python clients do, so a parsed value is the same double.
 * - Integers are always plain digits: counts and byte totals never switch to exponent notation
 *   (`String(1e21)` would give `1e+21`); the digits are the exact decimal value of the double,
 *   so parsing them gives the same double back.
 * - Everything else is the shortest representation that parses back to the same double.
 */
export function formatValue(value: number): string {
  if (value === Number.POSITIVE_INFINITY) return '+Inf';
  if (value === Number.NEGATIVE_INFINITY) return '-Inf';
  if (Number.isNaN(value)) return 'NaN';
  if (value === 0) return Object.is(value, -0) ? '-0' : '0';
  if (value >= 1e21 || value <= -1e21) return BigInt(value).toString();
  return String(value);
}

/**
 * Renders a number in OpenMetrics' canonical form, required for the `le` and `quantile` label
 * values: Go's shortest `%g` (exponent when the decimal exponent is below -4 or at least 6,
 * written with a sign and at least two digits), with `.0` appended when the result has neither
 * a decimal point nor an exponent. Examples: `0.005`, `1.0`, `10.0`, `100000.0`, `1e+06`,
 * `1e-05`, `+Inf`.
 */
export function formatCanonical(value: number): string {
  if (value === Number.POSITIVE_INFINITY) return '+Inf';
  if (value === Number.NEGATIVE_INFINITY) return '-Inf';
  if (Number.isNaN(value)) return 'NaN';
  if (value === 0) return Object.is(value, -0) ? '-0.0' : '0.0';
  // toExponential() without a digit count yields the shortest round-tripping mantissa.
  const exponential = value.toExponential();
  const e = exponential.indexOf('e');
  const exponent = Number(exponential.slice(e + 1));
  if (exponent < -4 || exponent >= 6) {
    const digits = Math.abs(exponent) < 10 ? `0${Math.abs(exponent)}` : `${Math.abs(exponent)}`;
    return `${exponential.slice(0, e)}e${exponent < 0 ? '-' : '+'}${digits}`;
  }
  // In this exponent range String() is fixed-point with the same shortest digits as Go.
  const fixed = String(value);
  return fixed.includes('.') ? fixed : `${fixed}.0`;
}

/**
 * Renders a label value given as a number for the `le` / `quantile` labels of the text format
 * 0.0.4 (`+Inf` for infinity, otherwise as {@link formatValue}).
 */
export function formatNumericLabel(value: number): string {
  return formatValue(value);
}

/**
 * Renders a timestamp for the Prometheus text format 0.0.4: integer milliseconds since the
 * epoch (Prometheus parses it as an int64). Fractions of a millisecond are rounded.
 */
export function formatTimestampMs(timestampMs: number): string {
  return formatValue(Math.round(timestampMs));
}

/**
 * Renders a timestamp for OpenMetrics: seconds since the epoch, as a decimal without exponent
 * for whole milliseconds (the spec advises against exponent notation for timestamps).
 */
export function formatTimestampSeconds(timestampMs: number): string {
  if (Number.isInteger(timestampMs) && Math.abs(timestampMs) < Number.MAX_SAFE_INTEGER) {
    const sign = timestampMs < 0 ? '-' : '';
    const abs = Math.abs(timestampMs);
    const seconds = Math.floor(abs / 1000);
    const millis = abs % 1000;
    if (millis === 0) return `${sign}${seconds}`;
    const fraction = String(millis).padStart(3, '0').replace(/0+$/, '');
    return `${sign}${seconds}.${fraction}`;
  }
  return formatValue(timestampMs / 1000);
}
