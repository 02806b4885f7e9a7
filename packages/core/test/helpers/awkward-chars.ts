/**
 * The characters the exposition formats escape or otherwise treat specially (and a few
 * ordinary ones to mix them with), for generated label values and help texts in the
 * fast-check tests. Strings drawn from these find escaping bugs far sooner than random
 * Unicode.
 */
export const AWKWARD_CHARS: readonly string[] = [
  '\\',
  '"',
  '\n',
  '\r',
  '\t',
  ' ',
  '#',
  '{',
  '}',
  '=',
  ',',
  'a',
  'é',
  '😀',
  '\0',
  '\u2028',
  '\uFEFF',
];
