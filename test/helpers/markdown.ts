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

/** A fenced code block of a Markdown file. */
export interface CodeBlock {
  /** The Markdown file, as given to {@link codeBlocks}. */
  readonly file: string;
  /** 1-based line of the first line of code (the line after the opening fence). */
  readonly line: number;
  /** The info string's first word, lower-cased (`js`, `ts`, `sh`, `` for none). */
  readonly lang: string;
  /** The info string's other words (e.g. `fragment`). */
  readonly attributes: readonly string[];
  /** The text of the nearest heading above the block (`` before the first heading). */
  readonly heading: string;
  /** The block's text, with the fence's indentation removed, ending in a newline. */
  readonly code: string;
}

/**
 * Every fenced code block (``` or ~~~, any indentation) of the Markdown file at `path`, in
 * order. An unclosed fence throws, since it would swallow the rest of the page.
 */
export function codeBlocks(path: string): CodeBlock[] {
  const lines = readFileSync(path, 'utf8').split('\n');
  const blocks: CodeBlock[] = [];
  let heading = '';
  for (let i = 0; i < lines.length; i++) {
    const line = lines[i]!;
    const heads = /^#{1,6} (.*)$/.exec(line);
    if (heads) heading = heads[1]!.trim();
    const open = /^( *)(`{3,}|~{3,})\s*(.*)$/.exec(line);
    if (!open) continue;
    const [, indent, fence, info] = open as unknown as [string, string, string, string];
    const close = new RegExp(`^ *${fence[0]}{${fence.length},}\\s*$`);
    const end = lines.findIndex((l, j) => j > i && close.test(l));
    if (end < 0) throw new Error(`${path}:${i + 1}: unclosed code fence`);
    const [lang = '', ...attributes] = info.trim().split(/\s+/).filter(Boolean);
    const body = lines
      .slice(i + 1, end)
      .map((l) => (l.startsWith(indent) ? l.slice(indent.length) : l.trimStart()));
    blocks.push({
      file: path,
      line: i + 2,
      lang: lang.toLowerCase(),
      attributes,
      heading,
      code: `${body.join('\n')}\n`,
    });
    i = end;
  }
  return blocks;
}
