/**
 * The MTA-STS policy (RFC 8461 3.2): parsed, and the MX hosts matched against it (4.1). It is
 * fetched by fetch-policy.ts.
 *
 * Our own parser, not mailauth's: the parser must say what is wrong.
 */
import { type Why, why } from '../../params.js';
export interface StsPolicy {
  mode: 'enforce' | 'testing' | 'none';
  mx: string[];
  maxAge: number;
}

export type PolicyParse = { ok: true; policy: StsPolicy } | { ok: false; error: string; why: Why };

const bad = (error: string, w: Why): PolicyParse => ({ ok: false, error, why: w });

/** Largest policy body read (RFC 8461 3.3 lets clients limit it; 64 KiB is what it suggests). */
export const MAX_POLICY_BYTES = 64 * 1024;

/** A host name label (RFC 5321 4.1.2 sub-domain): letters, digits and inner hyphens, 1 to 63 long. */
const LABEL = /^[a-z0-9](?:[a-z0-9-]{0,61}[a-z0-9])?$/;

/** Whether `pattern` is an `mx` value of RFC 8461 3.2: a host name, or "*." and a host name. */
export function validMxPattern(pattern: string): boolean {
  const name = pattern.startsWith('*.') ? pattern.slice(2) : pattern;
  const labels = name.split('.');
  return name.length <= 253 && labels.length >= 1 && labels.every((l) => LABEL.test(l));
}

/** Fields a policy has once (RFC 8461 3.2); `mx` may repeat, extensions are ignored. */
const SINGLE_FIELDS = new Set(['version', 'mode', 'max_age']);

/**
 * Parses a policy body (RFC 8461 3.2): "key: value" lines ending in LF or CRLF; version, mode and
 * max_age once each, mx once or more unless mode is none, extension fields checked for form and
 * otherwise ignored.
 */
export function parseStsPolicy(body: string): PolicyParse {
  const fields = new Map<string, string[]>();
  for (const raw of body.split(/\r?\n/)) {
    const line = raw.trim();
    if (line === '') continue;
    const m = /^([A-Za-z0-9][A-Za-z0-9_.-]{0,31})\s*:\s*(.*)$/.exec(line);
    if (!m) {
      const text = line.slice(0, 60);
      return bad(`"${text}" is not a "key: value" line`, why('sts.policy.line', { line: text }));
    }
    const key = (m[1] as string).toLowerCase();
    const value = (m[2] as string).trim();
    if (value === '') return bad(`the field "${key}" has no value`, why('sts.policy.empty_field', { field: key }));
    if (SINGLE_FIELDS.has(key) && fields.has(key)) {
      return bad(`the field "${key}" appears twice`, why('sts.policy.repeated_field', { field: key }));
    }
    fields.set(key, [...(fields.get(key) ?? []), value]);
  }
  if (fields.get('version')?.[0] !== 'STSv1')
    return bad('the policy has no "version: STSv1"', why('sts.policy.version'));
  const mode = fields.get('mode')?.[0];
  if (mode !== 'enforce' && mode !== 'testing' && mode !== 'none') {
    return mode === undefined
      ? bad('the policy has no "mode"', why('sts.policy.mode_missing'))
      : bad(`mode "${mode}" is not enforce, testing or none`, why('sts.policy.mode', { mode }));
  }
  const maxAge = fields.get('max_age')?.[0];
  if (maxAge === undefined || !/^\d{1,10}$/.test(maxAge) || Number(maxAge) > 31_557_600) {
    return bad('max_age is missing or not a number of seconds up to 31557600', why('sts.policy.max_age'));
  }
  const mx = (fields.get('mx') ?? []).map((m) => m.toLowerCase().replace(/\.$/, ''));
  if (mode !== 'none' && mx.length === 0) return bad('the policy lists no "mx"', why('sts.policy.no_mx'));
  for (const m of mx) {
    if (!validMxPattern(m))
      return bad(`"${m}" is not a host name pattern`, why('sts.policy.mx_pattern', { pattern: m }));
  }
  return { ok: true, policy: { mode, mx, maxAge: Number(maxAge) } };
}

/** RFC 8461 4.1: exact match, or "*.example.com" matching exactly one more label. */
export function mxMatches(pattern: string, host: string): boolean {
  const h = host.toLowerCase().replace(/\.$/, '');
  if (pattern.startsWith('*.')) {
    const suffix = pattern.slice(1);
    return h.endsWith(suffix) && !h.slice(0, -suffix.length).includes('.') && h.length > suffix.length;
  }
  return h === pattern;
}

export interface PolicyFetch {
  url: string;
  state: 'ok' | 'unreachable';
  address?: string;
  status?: number;
  body?: string;
  error?: string;
  /** `error` as a reason code with its params (params.ts). */
  why?: Why;
}

/** Where a domain's policy is served (RFC 8461 3.3). */
export const policyUrl = (domain: string) => `https://mta-sts.${domain}/.well-known/mta-sts.txt`;

/**
 * The host names a policy of `domain` must match (RFC 8461 4.1), from its MX answer: each MX host in
 * order of preference, the domain itself when it has no MX (the implicit MX, RFC 5321 5.1), none
 * for a null MX; names no `mx` field can carry are left out.
 */
export function policyMxNames(domain: string, records: { preference: number; exchange: string }[]): string[] {
  if (records.length === 0) return [domain];
  const names = [...records]
    .filter((r) => r.exchange !== '')
    .sort((a, b) => a.preference - b.preference)
    .map((r) => r.exchange.toLowerCase().replace(/\.$/, ''))
    .filter(validMxPattern);
  return [...new Set(names)];
}

/** A week: the RFC's "weeks or greater" (RFC 8461 3.2) at its short end, while the mode is testing. */
export const SUGGESTED_MAX_AGE = 604_800;

/**
 * The policy a fix suggests: every host in `mx`, mode `testing` to start (failures are reported
 * through TLS-RPT, mail still flows; RFC 8461 5), `max_age` a week.
 */
export function suggestedPolicy(mx: string[], mode: 'testing' | 'enforce' = 'testing', maxAge = SUGGESTED_MAX_AGE) {
  return ['version: STSv1', `mode: ${mode}`, ...mx.map((m) => `mx: ${m}`), `max_age: ${maxAge}`, ''].join('\n');
}
