/**
 * The reader's language: the first supported of the candidates given, most specific first
 * (`?lang=`, the recipient's, the tenant's default, an `Accept-Language` header value).
 */
import Negotiator from 'negotiator';

export type Locale = 'en' | 'tr';

/** The languages the catalogue speaks; the first is the default. */
export const LOCALES: readonly Locale[] = ['en', 'tr'];

export const DEFAULT_LOCALE: Locale = 'en';

export function isLocale(value: unknown): value is Locale {
  return typeof value === 'string' && (LOCALES as readonly string[]).includes(value);
}

/**
 * The supported locales one candidate names, best first. A candidate is a language tag (`tr`,
 * `tr-TR`, `tr_TR`) or a whole `Accept-Language` value with q-values (RFC 9110 12.5.4), read by
 * `negotiator`; `q=0` refuses a language.
 */
export function localesOf(candidate: string | null | undefined): Locale[] {
  if (typeof candidate !== 'string') return [];
  const value = candidate.trim().replaceAll('_', '-');
  if (value === '') return [];
  const found = new Negotiator({ headers: { 'accept-language': value } }).languages([...LOCALES]);
  return found.filter(isLocale);
}

/** The first supported locale of the candidates, in the order given; `en` when none is. */
export function pickLocale(...candidates: Array<string | null | undefined>): Locale {
  for (const c of candidates) {
    const [first] = localesOf(c);
    if (first) return first;
  }
  return DEFAULT_LOCALE;
}
