/**
 * The message catalogue: what a finding code, a category, a reason or a page string says in the
 * reader's language. Texts live in `messages/<locale>/*.json` (ICU MessageFormat); the engine
 * declares each code's parameters and reasons (`@mailaudit/engine`, `params.ts`), and the
 * completeness test holds the two together.
 */
import { type FormatOptions, format } from './format.js';
import { DEFAULT_LOCALE, type Locale } from './locale.js';

export { type FormatOptions, isTimeZone, messageArguments } from './format.js';
export { displayDomain } from './idn.js';
export { DEFAULT_LOCALE, isLocale, LOCALES, type Locale, localesOf, pickLocale } from './locale.js';
export { CatalogError, loadAll, MESSAGES_DIR, messages } from './messages.js';

export interface FindingText {
  title: string;
  message: string;
  why: string;
  fix: string;
}

export interface CategoryText {
  name: string;
  description: string;
}

/** `key` in `locale`, else in English, else undefined. */
function text(locale: Locale, key: string, params: Record<string, unknown>, opts: FormatOptions): string | undefined {
  return (
    format(locale, key, params, opts) ??
    (locale === DEFAULT_LOCALE ? undefined : format(DEFAULT_LOCALE, key, params, opts))
  );
}

/**
 * A finding's title, message (with its params), why it matters and how to fix it. A code the
 * catalogue does not know (a newer engine's) is titled by the code itself, the rest left empty.
 */
export function findingText(
  locale: Locale,
  code: string,
  params: Record<string, unknown> = {},
  opts: FormatOptions = {},
): FindingText {
  const part = (p: string) => text(locale, `code.${code}.${p}`, params ?? {}, opts);
  return {
    title: part('title') ?? code,
    message: part('message') ?? '',
    why: part('why') ?? '',
    fix: part('fix') ?? '',
  };
}

/** A category's name and one line of what it checks; an unknown id is its own name. */
export function categoryText(locale: Locale, category: string): CategoryText {
  return {
    name: text(locale, `category.${category}.name`, {}, {}) ?? category,
    description: text(locale, `category.${category}.description`, {}, {}) ?? '',
  };
}

/** Any message of the catalogue (`ui.*` for pages and emails); a missing key is shown as itself. */
export function t(locale: Locale, key: string, params: Record<string, unknown> = {}, opts: FormatOptions = {}): string {
  return text(locale, key, params, opts) ?? key;
}

/**
 * A moment for people: date and time in the reader's locale and time zone, the zone named (so a
 * time zone the reader's settings misspell shows as UTC, visibly). Throws on a date that is not one.
 */
export function formatDate(locale: Locale, date: Date | string, timeZone = 'UTC'): string {
  const d = date instanceof Date ? date : new Date(date);
  if (Number.isNaN(d.getTime())) throw new RangeError(`not a date: ${String(date)}`);
  let tz = timeZone;
  try {
    new Intl.DateTimeFormat(locale, { timeZone: tz });
  } catch {
    tz = 'UTC';
  }
  return new Intl.DateTimeFormat(locale, {
    year: 'numeric',
    month: 'long',
    day: 'numeric',
    hour: '2-digit',
    minute: '2-digit',
    timeZoneName: 'short',
    timeZone: tz,
  }).format(d);
}
