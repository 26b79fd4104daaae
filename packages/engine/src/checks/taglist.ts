/**
 * The tag=value lists of DKIM (RFC 6376 3.2), DMARC (RFC 7489 6.4), BIMI, MTA-STS (RFC 8461 3.1)
 * and TLS-RPT (RFC 8460 3): tags separated by ";", white space around tags and values ignored, a
 * final ";" allowed. Each standard differs in small ways, given as options.
 */
import { type Why, why } from '../params.js';

export interface TagList {
  tags: [string, string][];
  /** The value of the first tag of that name. */
  get(name: string): string | undefined;
  /** Every value of the tags of that name, in order. */
  all(name: string): string[];
  error?: string;
  /** The first error as a reason code with its params (params.ts). */
  why?: Why;
}

export interface TagListOptions {
  /**
   * Tag names compare case-insensitively and are returned in lower case. DMARC's are ABNF quoted
   * strings (RFC 7489 6.4, RFC 5234 2.3), BIMI's too; DKIM's are case-sensitive (RFC 6376 3.2).
   * @default false
   */
  lowerNames?: boolean;
  /**
   * An empty tag between two ";" is skipped rather than an error. RFC 7489's ABNF has no empty
   * tag, but DMARC receivers split on ";" and skip empty parts (OpenDMARC, Stalwart's mail-auth),
   * and so do DKIM verifiers with key records (docs/conformance.md). @default false
   */
  skipEmpty?: boolean;
  /** Tags that may appear more than once (TLS-RPT's `rua`, RFC 8460 3). @default none */
  repeatable?: readonly string[];
  /** What a tag name may be. @default a letter, then letters, digits and "_" (RFC 6376 3.2) */
  namePattern?: RegExp;
}

/**
 * Extension field names of MTA-STS and TLS-RPT records (RFC 8461 3.1 sts-ext-name, RFC 8460 3
 * tlsrpt-ext-name): a letter or digit, then up to 31 letters, digits, "_", "-" or ".".
 */
export const EXTENSION_NAME = /^[A-Za-z0-9][A-Za-z0-9_.-]{0,31}$/;

/** Extension field values of MTA-STS and TLS-RPT records: visible ASCII except "=" and ";". */
export const EXTENSION_VALUE = /^[\x21-\x3a\x3c\x3e-\x7e]+$/;

export function parseTagList(text: string, opts: TagListOptions = {}): TagList {
  const tags: [string, string][] = [];
  let error: string | undefined;
  let reason: Why | undefined;
  const fail = (w: Why, text: string) => {
    reason ??= w;
    error ??= text;
  };
  const seen = new Set<string>();
  const parts = text.split(';');
  if (parts.length > 1 && (parts.at(-1) as string).trim() === '') parts.pop();
  for (const part of parts) {
    const p = part.trim();
    if (p === '') {
      if (!opts.skipEmpty) fail(why('tags.empty'), 'an empty tag between two ";"');
      continue;
    }
    const eq = p.indexOf('=');
    if (eq <= 0) {
      fail(why('tags.not_tag_value', { tag: p }), `"${p}" is not tag=value`);
      continue;
    }
    let name = p.slice(0, eq).trim();
    if (opts.lowerNames) name = name.toLowerCase();
    if (!(opts.namePattern ?? /^[A-Za-z][A-Za-z0-9_]*$/).test(name)) {
      fail(why('tags.bad_name', { tag: name }), `"${name}" is not a valid tag name`);
      continue;
    }
    if (seen.has(name) && !opts.repeatable?.includes(name)) {
      fail(why('tags.repeated', { tag: name }), `the tag "${name}" appears twice`);
    }
    seen.add(name);
    tags.push([name, p.slice(eq + 1).trim()]);
  }
  const list: TagList = {
    tags,
    get: (n) => tags.find(([k]) => k === n)?.[1],
    all: (n) => tags.filter(([k]) => k === n).map(([, v]) => v),
  };
  if (error) list.error = error;
  if (reason) list.why = reason;
  return list;
}

/**
 * Whether the list starts with `v=<version>`, as DMARC, TLS-RPT, MTA-STS and BIMI require. The
 * version value compares exactly (RFC 7489 6.4 spells it with %x codes; RFC 8460 and 8461 with %s).
 */
export function startsWithVersion(list: TagList, version: string): boolean {
  const [first] = list.tags;
  return first?.[0] === 'v' && first[1] === version;
}
