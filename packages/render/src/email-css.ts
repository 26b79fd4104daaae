/**
 * The emails' one stylesheet (assets/email.css), read once: its `.class { … }` rules as the text of
 * style="" attributes (mail clients ignore most <style> blocks), and its @media blocks, kept as
 * they are for the one <style> block of the email's head.
 */
import { readFileSync } from 'node:fs';

export interface EmailCss {
  /** The declarations of `.name`, as a style attribute's text. */
  rules: ReadonlyMap<string, string>;
  /** The @media blocks, for a <style> element. */
  media: string;
}

/** Parses the restricted CSS of email.css: comments, `.name { decls }` rules and @media blocks. */
export function parseEmailCss(source: string): EmailCss {
  const css = source.replace(/\/\*[\s\S]*?\*\//g, '');
  const rules = new Map<string, string>();
  const media: string[] = [];
  let i = 0;
  while (i < css.length) {
    const open = css.indexOf('{', i);
    if (open < 0) break;
    const selector = css.slice(i, open).trim();
    if (selector.startsWith('@media')) {
      // The block ends at its matching brace (its rules have no nested blocks).
      let depth = 1;
      let j = open + 1;
      for (; j < css.length && depth > 0; j++) {
        if (css[j] === '{') depth++;
        else if (css[j] === '}') depth--;
      }
      media.push(css.slice(i, j).trim().replace(/\s+/g, ' '));
      i = j;
      continue;
    }
    const close = css.indexOf('}', open);
    if (close < 0) throw new Error(`email.css: no end to the rule of ${selector}`);
    if (!/^\.[a-z][a-z0-9-]*$/.test(selector))
      throw new Error(`email.css: ${selector} is not one class (only .name rules can be inlined)`);
    const decls = css
      .slice(open + 1, close)
      .split(';')
      .map((d) => d.trim().replace(/\s*:\s*/, ':'))
      .filter(Boolean)
      .join(';');
    rules.set(selector.slice(1), decls);
    i = close + 1;
  }
  return { rules, media: media.join('\n') };
}

let loaded: EmailCss | undefined;

/** email.css of this package, parsed on first use. */
export function emailCss(): EmailCss {
  loaded ??= parseEmailCss(readFileSync(new URL('../assets/email.css', import.meta.url), 'utf8'));
  return loaded;
}

/** The style attribute of the given classes (in order); an unknown class throws, so a typo fails a test. */
export function styleOf(...names: string[]): string {
  const { rules } = emailCss();
  return names
    .map((n) => {
      const r = rules.get(n);
      if (r === undefined) throw new Error(`email.css has no .${n}`);
      return r;
    })
    .join(';');
}
