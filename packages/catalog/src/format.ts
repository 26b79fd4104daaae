/**
 * ICU MessageFormat through `intl-messageformat`: plurals by the locale's rules, numbers and dates
 * in the reader's locale and time zone. Parameter values are prepared first: lists are joined the
 * locale's way ("a, b and c" / "a, b ve c"), IDN names shown in Unicode, ISO times made dates, and
 * a `reason` code worded by its own message.
 */
import { type MessageFormatElement, parse, TYPE } from '@formatjs/icu-messageformat-parser';
import { IntlMessageFormat } from 'intl-messageformat';
import { displayDomain } from './idn.js';
import type { Locale } from './locale.js';
import { messages } from './messages.js';

export interface FormatOptions {
  /** IANA time zone of the reader, for dates and times in messages. @default 'UTC' */
  timeZone?: string;
}

type ArgKind = 'text' | 'number' | 'date';

/** The arguments a message uses and how it uses them, from its ICU syntax tree. */
export function messageArguments(source: string): Map<string, ArgKind> {
  const out = new Map<string, ArgKind>();
  const walk = (elements: MessageFormatElement[]) => {
    for (const el of elements) {
      switch (el.type) {
        case TYPE.argument:
          if (!out.has(el.value)) out.set(el.value, 'text');
          break;
        case TYPE.number:
          out.set(el.value, 'number');
          break;
        case TYPE.date:
        case TYPE.time:
          out.set(el.value, 'date');
          break;
        case TYPE.plural:
          out.set(el.value, 'number');
          for (const o of Object.values(el.options)) walk(o.value);
          break;
        case TYPE.select:
          if (!out.has(el.value)) out.set(el.value, 'text');
          for (const o of Object.values(el.options)) walk(o.value);
          break;
        case TYPE.tag:
          walk(el.children);
          break;
        default:
          break;
      }
    }
  };
  walk(parse(source, { ignoreTag: true }));
  return out;
}

interface Compiled {
  format: IntlMessageFormat;
  args: Map<string, ArgKind>;
}

const compiledCache = new Map<string, Compiled>();

export function isTimeZone(tz: string): boolean {
  try {
    new Intl.DateTimeFormat('en', { timeZone: tz });
    return true;
  } catch {
    return false;
  }
}

function compile(locale: Locale, key: string, source: string, timeZone: string): Compiled {
  const cacheKey = `${locale}\u0000${timeZone}\u0000${key}`;
  let c = compiledCache.get(cacheKey);
  if (!c) {
    const tz = { timeZone };
    const format = new IntlMessageFormat(
      source,
      locale,
      {
        date: {
          short: { ...IntlMessageFormat.formats.date.short, ...tz },
          medium: { ...IntlMessageFormat.formats.date.medium, ...tz },
          long: { ...IntlMessageFormat.formats.date.long, ...tz },
          full: { ...IntlMessageFormat.formats.date.full, ...tz },
        },
        time: {
          short: { ...IntlMessageFormat.formats.time.short, ...tz },
          medium: { ...IntlMessageFormat.formats.time.medium, ...tz },
          long: { ...IntlMessageFormat.formats.time.long, ...tz },
          full: { ...IntlMessageFormat.formats.time.full, ...tz },
        },
      },
      { ignoreTag: true },
    );
    c = { format, args: messageArguments(source) };
    compiledCache.set(cacheKey, c);
  }
  return c;
}

function textOf(locale: Locale, value: unknown): string {
  if (value === null || value === undefined) return '';
  if (Array.isArray(value)) {
    return new Intl.ListFormat(locale, { type: 'conjunction' }).format(value.map((v) => textOf(locale, v)));
  }
  if (typeof value === 'string') return displayDomain(value);
  if (typeof value === 'number' || typeof value === 'boolean' || typeof value === 'bigint') return String(value);
  return JSON.stringify(value);
}

function prepare(
  locale: Locale,
  args: Map<string, ArgKind>,
  params: Record<string, unknown>,
  opts: FormatOptions,
  depth: number,
): Record<string, string | number | Date> {
  const out: Record<string, string | number | Date> = {};
  for (const [name, kind] of args) {
    const v = params[name];
    if (kind === 'number') {
      const n = typeof v === 'number' ? v : Array.isArray(v) ? v.length : Number(v);
      out[name] = Number.isFinite(n) ? n : 0;
    } else if (kind === 'date') {
      const d = v instanceof Date ? v : new Date(typeof v === 'string' || typeof v === 'number' ? v : Number.NaN);
      out[name] = d;
    } else if (name === 'reason' && typeof v === 'string' && depth === 0 && messages(locale).has(`reason.${v}`)) {
      out[name] = format(locale, `reason.${v}`, params, opts, depth + 1) ?? v;
    } else {
      out[name] = textOf(locale, v);
    }
  }
  return out;
}

/**
 * The message `key` of `locale` formatted with `params`, or undefined when the locale has no such
 * message or the values do not fit it (a date that is not one). A text parameter the message uses
 * and `params` lacks is shown empty, a number as 0.
 */
export function format(
  locale: Locale,
  key: string,
  params: Record<string, unknown> = {},
  opts: FormatOptions = {},
  depth = 0,
): string | undefined {
  const source = messages(locale).get(key);
  if (source === undefined) return undefined;
  const timeZone = opts.timeZone && isTimeZone(opts.timeZone) ? opts.timeZone : 'UTC';
  const c = compile(locale, key, source, timeZone);
  try {
    const out = c.format.format(prepare(locale, c.args, params, opts, depth));
    return Array.isArray(out) ? out.join('') : String(out);
  } catch {
    // A value the message cannot take (a date that is not one): the caller falls back.
    return undefined;
  }
}
