/**
 * The message files: every `messages/<locale>/*.json` of a locale, flat maps of key to ICU
 * MessageFormat text, loaded once into one map per locale. `findings.json` holds the finding
 * codes (`code.<code>.title|message|why|fix`), the categories (`category.<id>.name|description`)
 * and the reasons (`reason.<reason>`); `ui.json` the pages' and emails' strings (`ui.*`).
 */
import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { LOCALES, type Locale } from './locale.js';

/** The folder of the message files: beside src/ and dist/ alike. */
export const MESSAGES_DIR = fileURLToPath(new URL('../messages/', import.meta.url));

export class CatalogError extends Error {
  override name = 'CatalogError';
}

const loaded = new Map<Locale, ReadonlyMap<string, string>>();

function loadLocale(locale: Locale): ReadonlyMap<string, string> {
  const dir = join(MESSAGES_DIR, locale);
  const out = new Map<string, string>();
  const files = readdirSync(dir)
    .filter((f) => f.endsWith('.json'))
    .sort();
  for (const file of files) {
    const path = join(dir, file);
    let data: unknown;
    try {
      data = JSON.parse(readFileSync(path, 'utf8'));
    } catch (err) {
      throw new CatalogError(`${path}: not valid JSON (${(err as Error).message})`);
    }
    if (typeof data !== 'object' || data === null || Array.isArray(data)) {
      throw new CatalogError(`${path}: must be one object of "key": "message" pairs`);
    }
    for (const [key, value] of Object.entries(data)) {
      if (typeof value !== 'string') throw new CatalogError(`${path}: the message of ${key} is not a string`);
      if (out.has(key)) throw new CatalogError(`${path}: ${key} is defined in another file of ${locale} too`);
      out.set(key, value);
    }
  }
  return out;
}

/** Every message of a locale, all its files in one map (loaded on first use, then kept). */
export function messages(locale: Locale): ReadonlyMap<string, string> {
  let m = loaded.get(locale);
  if (!m) {
    m = loadLocale(locale);
    loaded.set(locale, m);
  }
  return m;
}

/** Loads every locale now, so that a broken message file fails a process at start, not a page. */
export function loadAll(): void {
  for (const l of LOCALES) messages(l);
}
