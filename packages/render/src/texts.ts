/**
 * The one seam between the pages and emails and the message catalogue: the reader's language, the
 * UI strings, the texts of findings and categories, dates and IDN names. Everything the templates
 * say goes through here.
 *
 * Interim: until `@mailaudit/catalog` is on main, UI strings come from `messages/<locale>/ui.json`
 * beside this package with a small ICU subset (`{name}`, `{n, plural, …}` with `#`), and findings
 * fall back to the engine's English message.
 */
import { readFileSync } from 'node:fs';
import { domainToUnicode } from 'node:url';
import type { CategoryId, Finding } from '@mailaudit/engine';

export type Locale = 'en' | 'tr';
export const LOCALES: readonly Locale[] = ['en', 'tr'];

/** The first candidate that names a supported language (`tr-TR`, `tr;q=0.9, en`…); English otherwise. */
export function pickLocale(...candidates: Array<string | null | undefined>): Locale {
  for (const c of candidates) {
    if (!c) continue;
    const tags = c
      .split(',')
      .map((part) => {
        const [tag = '', ...rest] = part.trim().split(';');
        const q = rest.map((r) => r.trim()).find((r) => r.startsWith('q='));
        return { tag: tag.trim().toLowerCase(), q: q ? Number(q.slice(2)) : 1 };
      })
      .filter((x) => x.tag && x.q > 0)
      .sort((a, b) => b.q - a.q);
    for (const { tag } of tags) {
      const base = tag.split('-')[0] as Locale;
      if (LOCALES.includes(base)) return base;
    }
  }
  return 'en';
}

const ui = new Map<Locale, Record<string, string>>();
function messages(locale: Locale): Record<string, string> {
  let m = ui.get(locale);
  if (!m) {
    m = JSON.parse(readFileSync(new URL(`../messages/${locale}/ui.json`, import.meta.url), 'utf8')) as Record<
      string,
      string
    >;
    ui.set(locale, m);
  }
  return m;
}

/** Finds the end of the `{…}` that opens at `open`, counting nested braces. */
function closing(s: string, open: number): number {
  let depth = 0;
  for (let i = open; i < s.length; i++) {
    if (s[i] === '{') depth++;
    else if (s[i] === '}' && --depth === 0) return i;
  }
  throw new Error(`unbalanced braces in message: ${s}`);
}

function format(locale: Locale, msg: string, params: Record<string, unknown>, hash?: string): string {
  let out = '';
  for (let i = 0; i < msg.length; i++) {
    const c = msg[i];
    if (c === '#' && hash !== undefined) {
      out += hash;
      continue;
    }
    if (c !== '{') {
      out += c;
      continue;
    }
    const end = closing(msg, i);
    const body = msg.slice(i + 1, end);
    i = end;
    const [name = '', kind, ...rest] = body.split(',');
    const value = params[name.trim()];
    if (kind?.trim() === 'plural') {
      const n = Number(value);
      const cases = rest.join(',');
      const options = new Map<string, string>();
      for (let j = 0; j < cases.length; ) {
        const open = cases.indexOf('{', j);
        if (open < 0) break;
        const sel = cases.slice(j, open).trim();
        const close = closing(cases, open);
        options.set(sel, cases.slice(open + 1, close));
        j = close + 1;
      }
      const rule = new Intl.PluralRules(locale).select(n);
      const chosen = options.get(`=${n}`) ?? options.get(rule) ?? options.get('other') ?? '';
      out += format(locale, chosen, params, new Intl.NumberFormat(locale).format(n));
    } else {
      out += value === undefined || value === null ? '' : String(value);
    }
  }
  return out;
}

/** A UI string (`ui.*`) in `locale`; a missing key is a bug and throws. */
export function t(locale: Locale, key: string, params: Record<string, unknown> = {}): string {
  const msg = messages(locale)[key] ?? messages('en')[key];
  if (msg === undefined) throw new Error(`no UI string ${key}`);
  return format(locale, msg, params);
}

export interface FindingText {
  title: string;
  message: string;
  why: string;
  fix: string;
}

export function findingText(_locale: Locale, f: Pick<Finding, 'code' | 'message' | 'params'>): FindingText {
  return { title: f.code, message: f.message, why: '', fix: '' };
}

export function categoryText(_locale: Locale, id: CategoryId | string): { name: string; description: string } {
  return { name: id, description: '' };
}

/** A date and time in `locale`, in `timeZone` (default UTC), with the zone's name. */
export function formatDate(locale: Locale, date: Date | string, timeZone = 'UTC'): string {
  return new Intl.DateTimeFormat(locale, {
    year: 'numeric',
    month: 'long',
    day: 'numeric',
    hour: '2-digit',
    minute: '2-digit',
    timeZone,
    timeZoneName: 'short',
  }).format(new Date(date));
}

/** An ASCII (punycode) domain as people read it. */
export function displayDomain(ascii: string): string {
  return domainToUnicode(ascii) || ascii;
}
