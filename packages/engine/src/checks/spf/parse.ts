/**
 * SPF record parser following the ABNF of RFC 7208 section 12. Pure: no DNS.
 */
import { isIP } from 'node:net';
import { type Reason, type Why, why } from '../../params.js';

export type Qualifier = '+' | '-' | '~' | '?';
export type MechanismName = 'all' | 'include' | 'a' | 'mx' | 'ptr' | 'ip4' | 'ip6' | 'exists';

export interface Mechanism {
  kind: 'mechanism';
  qualifier: Qualifier;
  name: MechanismName;
  /** The domain-spec, macros unexpanded. */
  domainSpec?: string;
  /** ip4/ip6 network. */
  network?: string;
  cidr4?: number;
  cidr6?: number;
  raw: string;
}

export interface Modifier {
  kind: 'modifier';
  name: string;
  value: string;
  raw: string;
}

export type Term = Mechanism | Modifier;

export interface SpfRecord {
  terms: Term[];
  mechanisms: Mechanism[];
  redirect?: string;
  exp?: string;
}

export type ParseResult = { ok: true; record: SpfRecord } | { ok: false; error: string; why: Why };

/** Whether a TXT string is an SPF record: "v=spf1" alone or followed by a space (RFC 7208 4.5). */
export function isSpfRecord(text: string): boolean {
  return /^v=spf1( |$)/i.test(text);
}

/** Mechanisms that cost a DNS lookup (RFC 7208 4.6.4); `redirect` does too. */
export const LOOKUP_MECHANISMS: ReadonlySet<MechanismName> = new Set(['include', 'a', 'mx', 'ptr', 'exists']);

const MACRO_LETTERS = 'slodiphcrtv';
const DELIMITERS = '.-+,/_=';

/**
 * Validates a macro-string (RFC 7208 7.1); `explain` allows the c, r, t letters reserved for exp.
 * Returns an error message or undefined.
 */
export function checkMacroString(s: string, explain = false): string | undefined {
  for (let i = 0; i < s.length; i++) {
    const ch = s[i] as string;
    const code = ch.charCodeAt(0);
    if (ch === '%') {
      const next = s[i + 1];
      if (next === '%' || next === '_' || next === '-') {
        i++;
        continue;
      }
      if (next !== '{') return `"%" must be followed by "{", "%", "_" or "-" at "${s.slice(i)}"`;
      const end = s.indexOf('}', i);
      if (end < 0) return `unterminated macro at "${s.slice(i)}"`;
      const body = s.slice(i + 2, end);
      const m = /^([a-zA-Z])(\d*)(r?)([.\-+,/_=]*)$/i.exec(body);
      if (!m) return `invalid macro "%{${body}}"`;
      const letter = (m[1] as string).toLowerCase();
      if (!MACRO_LETTERS.includes(letter)) return `unknown macro letter "${m[1]}"`;
      if (!explain && 'crt'.includes(letter)) return `macro letter "${letter}" is only allowed in exp`;
      if (m[2] && Number(m[2]) === 0) return `macro "%{${body}}" keeps zero labels`;
      for (const d of m[4] ?? '') if (!DELIMITERS.includes(d)) return `invalid delimiter "${d}"`;
      i = end;
      continue;
    }
    // macro-literal = %x21-24 / %x26-7E (and SP in explanation strings)
    if (code < 0x21 || code > 0x7e) {
      if (!(explain && ch === ' ')) return `invalid character ${JSON.stringify(ch)}`;
    }
  }
  return undefined;
}

/** domain-spec = macro-string domain-end (RFC 7208 7.1). */
export function checkDomainSpec(spec: string): string | undefined {
  if (spec.length === 0) return 'empty domain-spec';
  const macroError = checkMacroString(spec);
  if (macroError) return macroError;
  // domain-end: a macro-expand, or "." toplabel ["."]
  if (/(%\{[^}]*\}|%[%_-])$/.test(spec)) return undefined;
  const trimmed = spec.endsWith('.') ? spec.slice(0, -1) : spec;
  const dot = trimmed.lastIndexOf('.');
  if (dot < 0) return `"${spec}" is not a fully qualified domain`;
  const top = trimmed.slice(dot + 1);
  const toplabel = /^(?:[a-z0-9]*[a-z][a-z0-9]*|[a-z0-9]+-[a-z0-9-]*[a-z0-9])$/i;
  if (!toplabel.test(top)) return `"${spec}" does not end in a valid top label`;
  for (const label of trimmed.split('.')) {
    if (label.length === 0 && trimmed !== '') return `"${spec}" has an empty label`;
    if (label.length > 63 && !label.includes('%')) return `"${spec}" has a label over 63 characters`;
  }
  return undefined;
}

function parseCidr(text: string, allow4: boolean, allow6: boolean): { cidr4?: number; cidr6?: number } | string {
  // dual-cidr-length = [ ip4-cidr-length ] [ "/" ip6-cidr-length ]
  const m = /^(?:\/(0|[1-9]\d*))?(?:\/\/(0|[1-9]\d*))?$/.exec(text);
  if (!m) return `invalid CIDR length "${text}"`;
  const out: { cidr4?: number; cidr6?: number } = {};
  if (m[1] !== undefined) {
    if (!allow4) return `invalid CIDR length "${text}"`;
    out.cidr4 = Number(m[1]);
    if (out.cidr4 > 32) return `IPv4 CIDR length ${out.cidr4} over 32`;
  }
  if (m[2] !== undefined) {
    if (!allow6) return `invalid CIDR length "${text}"`;
    out.cidr6 = Number(m[2]);
    if (out.cidr6 > 128) return `IPv6 CIDR length ${out.cidr6} over 128`;
  }
  return out;
}

const IP4 = /^(25[0-5]|2[0-4]\d|1\d\d|[1-9]?\d)(\.(25[0-5]|2[0-4]\d|1\d\d|[1-9]?\d)){3}$/;

/** A term that does not parse: the English text and the reason code (params.ts). */
interface BadTerm {
  error: string;
  why: Why;
}

function parseTerm(raw: string): Term | BadTerm {
  const bad = (reason: Reason, error: string, params: Record<string, string> = { term: raw }): BadTerm => ({
    error,
    why: why(reason, params),
  });
  const mod = /^([a-zA-Z][a-zA-Z0-9_.-]*)=(.*)$/.exec(raw);
  if (mod) {
    const name = (mod[1] as string).toLowerCase();
    const value = mod[2] as string;
    if (name === 'redirect') {
      const e = checkDomainSpec(value);
      if (e) return bad('spf.invalid_domain_spec', `redirect: ${e}`);
    } else if (name === 'exp') {
      const e = checkDomainSpec(value);
      if (e) return bad('spf.invalid_domain_spec', `exp: ${e}`);
    } else {
      const e = checkMacroString(value);
      if (e) return bad('spf.invalid_macro', `${name}=: ${e}`);
    }
    return { kind: 'modifier', name, value, raw };
  }
  const m = /^([+\-~?]?)([a-zA-Z][a-zA-Z0-9]*)(.*)$/.exec(raw);
  if (!m) return bad('spf.invalid_term', `unknown term "${raw}"`);
  const qualifier = (m[1] || '+') as Qualifier;
  const name = (m[2] as string).toLowerCase();
  const rest = m[3] as string;
  const mech = (extra: Partial<Mechanism>): Mechanism => ({
    kind: 'mechanism',
    qualifier,
    name: name as MechanismName,
    raw,
    ...extra,
  });
  switch (name) {
    case 'all':
      return rest === '' ? mech({}) : bad('spf.all_argument', `"all" takes no argument: "${raw}"`);
    case 'include':
    case 'exists': {
      if (!rest.startsWith(':')) return bad('spf.domain_missing', `"${name}" needs ":domain": "${raw}"`);
      const spec = rest.slice(1);
      const e = checkDomainSpec(spec);
      return e ? bad('spf.invalid_domain_spec', `${name}: ${e}`) : mech({ domainSpec: spec });
    }
    case 'a':
    case 'mx': {
      // [":" domain-spec] [dual-cidr-length]: a domain-spec may itself contain "/" (7.1), so
      // only a trailing run of well-formed CIDR lengths is taken as such.
      const cm = /^(?::(.*?))?((?:\/(?:0|[1-9]\d*))?(?:\/\/(?:0|[1-9]\d*))?)$/.exec(rest);
      if (!cm) return bad('spf.invalid_term', `invalid "${name}" mechanism "${raw}"`);
      const spec = cm[1];
      if (spec !== undefined) {
        const e = checkDomainSpec(spec);
        if (e) return bad('spf.invalid_domain_spec', `${name}: ${e}`);
      }
      const cidr = parseCidr(cm[2] as string, true, true);
      if (typeof cidr === 'string') return bad('spf.invalid_cidr', `${name}: ${cidr}`);
      return mech({ ...(spec !== undefined ? { domainSpec: spec } : {}), ...cidr });
    }
    case 'ptr': {
      if (rest === '') return mech({});
      if (!rest.startsWith(':')) return bad('spf.invalid_term', `invalid "ptr" mechanism "${raw}"`);
      const e = checkDomainSpec(rest.slice(1));
      return e ? bad('spf.invalid_domain_spec', `ptr: ${e}`) : mech({ domainSpec: rest.slice(1) });
    }
    case 'ip4': {
      const im = /^:([^/]+)((?:\/.*)?)$/.exec(rest);
      if (!im || !IP4.test(im[1] as string)) return bad('spf.invalid_network', `invalid ip4 network in "${raw}"`);
      const cidr = parseCidr(im[2] as string, true, false);
      if (typeof cidr === 'string') return bad('spf.invalid_cidr', `ip4: ${cidr}`);
      return mech({ network: im[1] as string, ...cidr });
    }
    case 'ip6': {
      const im = /^:([0-9a-fA-F:.]+)((?:\/.*)?)$/.exec(rest);
      if (!im || !isIpv6(im[1] as string)) return bad('spf.invalid_network', `invalid ip6 network in "${raw}"`);
      const c = im[2] as string;
      const cidr = c === '' ? {} : parseCidr(`/${c}`, false, true);
      if (typeof cidr === 'string') return bad('spf.invalid_cidr', `ip6: ${cidr}`);
      return mech({ network: im[1] as string, ...cidr });
    }
    default:
      return bad('spf.unknown_mechanism', `unknown mechanism "${name}"`, { mechanism: name, term: raw });
  }
}

/** An IPv6 address as RFC 4291 2.2 writes it (no zone index: the character class excludes "%"). */
function isIpv6(s: string): boolean {
  return /^[0-9a-fA-F:.]+$/.test(s) && isIP(s) === 6;
}

/** Parses one SPF record (the TXT strings already joined). */
export function parseSpf(text: string): ParseResult {
  if (!isSpfRecord(text))
    return { ok: false, error: 'the record does not start with "v=spf1"', why: why('spf.not_spf') };
  const body = text.slice(6);
  // terms = *( 1*SP ( directive / modifier ) ); only SP separates terms.
  if (/[^\x20-\x7e]/.test(body)) {
    return { ok: false, error: 'the record contains characters outside printable ASCII', why: why('spf.non_ascii') };
  }
  const rawTerms = body.split(' ').filter((t) => t.length > 0);
  const terms: Term[] = [];
  let redirect: string | undefined;
  let exp: string | undefined;
  for (const raw of rawTerms) {
    const t = parseTerm(raw);
    if (!('kind' in t)) return { ok: false, error: t.error, why: t.why };
    if (t.kind === 'modifier') {
      if (t.name === 'redirect') {
        if (redirect !== undefined) {
          const error = 'more than one redirect= modifier (RFC 7208 6)';
          return { ok: false, error, why: why('spf.duplicate_modifier', { modifier: 'redirect' }) };
        }
        redirect = t.value;
      } else if (t.name === 'exp') {
        if (exp !== undefined) {
          const error = 'more than one exp= modifier (RFC 7208 6)';
          return { ok: false, error, why: why('spf.duplicate_modifier', { modifier: 'exp' }) };
        }
        exp = t.value;
      }
    }
    terms.push(t);
  }
  const record: SpfRecord = { terms, mechanisms: terms.filter((t): t is Mechanism => t.kind === 'mechanism') };
  if (redirect !== undefined) record.redirect = redirect;
  if (exp !== undefined) record.exp = exp;
  return { ok: true, record };
}
