/**
 * The one seam between the pages and emails and the message catalogue (`@mailaudit/catalog`):
 * the reader's language, the UI strings (`ui.*` in the catalogue's `messages/<locale>/ui.json`),
 * the texts of findings and categories, dates and IDN names. Everything the templates say goes
 * through here.
 */
import {
  findingText as catalogFindingText,
  t as catalogT,
  categoryText,
  displayDomain,
  type FindingText,
  formatDate,
  LOCALES,
  type Locale,
  pickLocale,
} from '@mailaudit/catalog';
import type { Finding } from '@mailaudit/engine';

export { categoryText, displayDomain, type FindingText, formatDate, LOCALES, type Locale, pickLocale };

/** A UI string (`ui.*`) in `locale`. */
export function t(locale: Locale, key: string, params: Record<string, unknown> = {}): string {
  return catalogT(locale, key, params);
}

/** A finding's title, message, why and fix; dates in its params shown in `timeZone`. */
export function findingText(locale: Locale, f: Pick<Finding, 'code' | 'params'>, timeZone = 'UTC'): FindingText {
  return catalogFindingText(locale, f.code, f.params, { timeZone });
}
