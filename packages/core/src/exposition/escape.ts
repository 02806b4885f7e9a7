/**
 * Escaping of the free-text parts of an exposition: label values and HELP text.
 *
 * Both formats escape label values the same way (backslash, double quote, line feed). HELP
 * differs: the Prometheus text format 0.0.4 escapes only backslash and line feed (a `\"` there
 * is an invalid escape sequence to Prometheus' parser), while OpenMetrics uses its one
 * `escaped-string` rule for HELP too, so double quotes are escaped there as well.
 *
 * Every other character, including carriage return, NUL and any Unicode, is written as is:
 * both grammars allow it raw.
 */

const LABEL_VALUE_SPECIAL = /[\\"\n]/;
const LABEL_VALUE_SPECIAL_ALL = /[\\"\n]/g;
const HELP_TEXT_SPECIAL = /[\\\n]/;
const HELP_TEXT_SPECIAL_ALL = /[\\\n]/g;

function replaceSpecial(ch: string): string {
  if (ch === '\n') return '\\n';
  if (ch === '"') return '\\"';
  return '\\\\';
}

/**
 * Escapes a label value for either format: `\` → `\\`, `"` → `\"`, line feed → `\n`.
 * Strings without those characters are returned unchanged (no allocation on the common path).
 */
export function escapeLabelValue(value: string): string {
  return LABEL_VALUE_SPECIAL.test(value)
    ? value.replace(LABEL_VALUE_SPECIAL_ALL, replaceSpecial)
    : value;
}

/** Escapes HELP text for the Prometheus text format 0.0.4: `\` → `\\`, line feed → `\n`. */
export function escapeHelpText(help: string): string {
  return HELP_TEXT_SPECIAL.test(help) ? help.replace(HELP_TEXT_SPECIAL_ALL, replaceSpecial) : help;
}

/**
 * Escapes HELP text for OpenMetrics 1.0.0 (its `escaped-string`): `\` → `\\`, `"` → `\"`,
 * line feed → `\n`. The same rule as label values.
 */
export function escapeHelpOpenMetrics(help: string): string {
  return escapeLabelValue(help);
}
