/**
 * Code blocks of the repository's Markdown files, so that tests run what the documentation
 * shows instead of a copy that could drift from it.
 */
import { readFileSync } from 'node:fs';

/**
 * The first fenced code block of language `lang` after the heading whose text is `heading`
 * (any level) in the Markdown file at `path`. Throws when there is none, so a renamed heading
 * fails the test instead of skipping it.
 */
export function codeBlockAfter(path: string, heading: string, lang: string): string {
  const text = readFileSync(path, 'utf8');
  const lines = text.split('\n');
  const start = lines.findIndex(
    (line) => /^#+ /.test(line) && line.replace(/^#+ /, '') === heading,
  );
  if (start < 0) throw new Error(`${path}: no heading ${JSON.stringify(heading)}`);
  const open = lines.findIndex((line, i) => i > start && line === `\`\`\`${lang}`);
  const close = lines.findIndex((line, i) => i > open && line === '```');
  if (open < 0 || close < 0) throw new Error(`${path}: no \`\`\`${lang} block after ${heading}`);
  return `${lines.slice(open + 1, close).join('\n')}\n`;
}

/**
 * The same program as CommonJS: each ESM `import ... from '...'` statement of `code` becomes a
 * `require()` (default imports take the whole module, as Node's CommonJS interop does for
 * `node:` modules). Throws when an import is left that this does not handle.
 */
export function esmToCommonJs(code: string): string {
  const converted = code.replace(
    /^import (\{[^}]*\}|[\w$]+) from '([^']+)';$/gm,
    (_, names: string, from: string) => `const ${names} = require('${from}');`,
  );
  if (/^import /m.test(converted)) throw new Error(`unconverted import in:\n${converted}`);
  return converted;
}
