/**
 * RFC 7208 check_host(): the SPF result a receiver computes for one connecting address, sender
 * and HELO name, with macro expansion (section 7), the 10-term lookup limit and the 2 void
 * lookups limit (4.6.4), and explanations (6.2). The audit's static walk (index.ts) answers
 * "what could go wrong for any sender"; this answers "what does a receiver decide for this one".
 * Both fetch records, count and look up terms through terms.ts.
 */
import { isIP } from 'node:net';
import type { DnsClient } from '../../dns/audit-dns.js';
import { failed } from '../../dns/audit-dns.js';
import { embeddedIpv4, expandIpv6, reverseName, sameAddress } from '../../net/address.js';
import type { Mechanism } from './parse.js';
import { addressesOf, fetchRecord, lookupTerm, SpfError, SpfLimits } from './terms.js';

export type SpfResult = 'pass' | 'fail' | 'softfail' | 'neutral' | 'none' | 'permerror' | 'temperror';

export interface CheckHostInput {
  /** The connecting address. */
  ip: string;
  /** MAIL FROM address; when empty, postmaster@<helo> (RFC 7208 2.4). */
  sender: string;
  helo: string;
  /** The domain whose record is checked; by default the sender's domain. */
  domain?: string;
  /** Receiving host name for the %{r} macro. @default 'unknown' */
  receiver?: string;
  /** Seconds since the epoch, for the %{t} macro of explanations. */
  now: number;
}

export interface CheckHostResult {
  result: SpfResult;
  explanation?: string;
  /** Why, for people (e.g. the permerror's cause). */
  reason?: string;
  lookups: number;
  voidLookups: number;
}

interface State {
  ip: string;
  family: 4 | 6;
  sender: string;
  local: string;
  senderDomain: string;
  helo: string;
  receiver: string;
  now: number;
  limits: SpfLimits;
}

const QUALIFIER_RESULT: Record<string, SpfResult> = { '+': 'pass', '-': 'fail', '~': 'softfail', '?': 'neutral' };

/** RFC 7208 4.3: a domain check_host() can work on. */
function validDomain(d: string): boolean {
  const name = d.endsWith('.') ? d.slice(0, -1) : d;
  if (name.length === 0 || name.length > 253) return false;
  const labels = name.split('.');
  if (labels.length < 2) return false;
  return labels.every((l) => l.length > 0 && l.length <= 63);
}

function ipBits(ip: string): { family: 4 | 6; bits: bigint } {
  if (isIP(ip) === 4) {
    const n = ip.split('.').reduce((acc, o) => (acc << 8n) | BigInt(Number(o)), 0n);
    return { family: 4, bits: n };
  }
  const groups = expandIpv6(ip).split(':');
  return { family: 6, bits: groups.reduce((acc, g) => (acc << 16n) | BigInt(Number.parseInt(g, 16)), 0n) };
}

function inNetwork(ip: string, network: string, prefix: number): boolean {
  const a = ipBits(ip);
  const b = ipBits(network);
  if (a.family !== b.family) return false;
  const width = a.family === 4 ? 32 : 128;
  const shift = BigInt(width - prefix);
  return a.bits >> shift === b.bits >> shift;
}

function macroValue(
  letter: string,
  st: State,
  domain: string,
  validated: () => Promise<string>,
): Promise<string> | string {
  switch (letter) {
    case 's':
      return st.sender;
    case 'l':
      return st.local;
    case 'o':
      return st.senderDomain;
    case 'd':
      return domain;
    case 'i':
      return st.family === 4 ? st.ip : expandIpv6(st.ip).replaceAll(':', '').split('').join('.');
    case 'p':
      return validated();
    case 'v':
      return st.family === 4 ? 'in-addr' : 'ip6';
    case 'h':
      return st.helo;
    case 'c':
      // "easily readable": the compressed, lower-case form of an IPv6 address (RFC 5952).
      return st.family === 4 ? st.ip : new URL(`http://[${st.ip}]/`).hostname.slice(1, -1);
    case 'r':
      return st.receiver;
    case 't':
      return String(st.now);
    default:
      throw new SpfError('permerror', `unknown macro letter ${letter}`);
  }
}

/** RFC 7208 7.3: expands a macro-string. */
async function expand(spec: string, st: State, domain: string, dns: DnsClient, explain = false): Promise<string> {
  let out = '';
  for (let i = 0; i < spec.length; i++) {
    const ch = spec[i] as string;
    if (ch !== '%') {
      out += ch;
      continue;
    }
    const next = spec[i + 1];
    if (next === '%') out += '%';
    else if (next === '_') out += ' ';
    else if (next === '-') out += '%20';
    else if (next === '{') {
      const end = spec.indexOf('}', i);
      const m = /^([a-zA-Z])(\d*)(r?)([.\-+,/_=]*)$/i.exec(spec.slice(i + 2, end));
      if (end < 0 || !m) throw new SpfError('permerror', `invalid macro in "${spec}"`);
      const raw = m[1] as string;
      const letter = raw.toLowerCase();
      if (!explain && 'crt'.includes(letter)) throw new SpfError('permerror', `macro %{${letter}} outside exp`);
      let value = await macroValue(letter, st, domain, () => validatedName(st, domain, dns));
      const delims = m[4] || '.';
      let parts = value.split(new RegExp(`[${delims.replace(/[-\\\]^]/g, '\\$&')}]`));
      if ((m[3] as string).toLowerCase() === 'r') parts = parts.reverse();
      if (m[2]) {
        const keep = Number(m[2]);
        if (keep === 0) throw new SpfError('permerror', 'macro keeps zero labels');
        parts = parts.slice(-keep);
      }
      value = parts.join('.');
      // An upper-case letter asks for URL escaping (RFC 7208 7.3).
      if (raw !== letter)
        value = encodeURIComponent(value).replace(/[!'()*]/g, (c) => `%${c.charCodeAt(0).toString(16).toUpperCase()}`);
      out += value;
      i = end;
      continue;
    } else throw new SpfError('permerror', `invalid "%" in "${spec}"`);
    i++;
  }
  return out;
}

/** Expands a domain-spec to a name to look up, truncated on the left to 253 characters (7.3). */
async function targetName(spec: string | undefined, st: State, domain: string, dns: DnsClient): Promise<string> {
  if (spec === undefined) return domain;
  let name = (await expand(spec, st, domain, dns)).replace(/\.$/, '');
  while (name.length > 253 && name.includes('.')) name = name.slice(name.indexOf('.') + 1);
  return name;
}

/** The %{p} macro: a validated PTR name of the client (RFC 7208 7.3, 5.5), or "unknown". */
async function validatedName(st: State, domain: string, dns: DnsClient): Promise<string> {
  const names = await validatedNames(st, dns);
  const exact = names.find((n) => n === domain.toLowerCase());
  const sub = names.find((n) => n.endsWith(`.${domain.toLowerCase()}`));
  return exact ?? sub ?? names[0] ?? 'unknown';
}

async function validatedNames(st: State, dns: DnsClient): Promise<string[]> {
  const ptr = await dns.query(reverseName(st.ip), 'PTR');
  if (failed(ptr)) return [];
  const out: string[] = [];
  for (const name of ptr.records.slice(0, 10)) {
    const a = await dns.query(name, st.family === 4 ? 'A' : 'AAAA');
    if (a.records.some((addr) => sameAddress(addr, st.ip))) out.push(name);
  }
  return out;
}

async function matches(m: Mechanism, st: State, domain: string, dns: DnsClient): Promise<boolean> {
  const families = [st.family] as const;
  const prefix = st.family === 4 ? (m.cidr4 ?? 32) : (m.cidr6 ?? 128);
  switch (m.name) {
    case 'all':
      return true;
    case 'ip4':
      return st.family === 4 && inNetwork(st.ip, m.network as string, m.cidr4 ?? 32);
    case 'ip6':
      return st.family === 6 && inNetwork(st.ip, m.network as string, m.cidr6 ?? 128);
    case 'a':
    case 'mx':
    case 'exists': {
      st.limits.lookup();
      const target = await targetName(m.domainSpec, st, domain, dns);
      if (!validDomain(target)) return false;
      const found = await lookupTerm(dns, m, target, families, st.limits);
      if (m.name === 'exists') return found.addresses.length > 0;
      if (found.addresses.some((x) => inNetwork(st.ip, x, prefix))) return true;
      for (const exchange of found.exchanges) {
        const ex = await addressesOf(dns, exchange, families);
        if (ex.addresses.some((x) => inNetwork(st.ip, x, prefix))) return true;
      }
      return false;
    }
    case 'ptr': {
      st.limits.lookup();
      const target = (await targetName(m.domainSpec, st, domain, dns)).toLowerCase();
      const names = await validatedNames(st, dns);
      return names.some((n) => n === target || n.endsWith(`.${target}`));
    }
    case 'include': {
      st.limits.lookup();
      const target = await targetName(m.domainSpec, st, domain, dns);
      const sub = await evaluate(st, target, dns, `include:${target}`);
      if (sub.result === 'pass') return true;
      if (sub.result === 'temperror') throw new SpfError('temperror', sub.reason ?? 'include: temperror');
      if (sub.result === 'permerror' || sub.result === 'none') {
        throw new SpfError('permerror', sub.reason ?? `include:${target} has no SPF record`);
      }
      return false;
    }
  }
}

async function explanation(spec: string, st: State, domain: string, dns: DnsClient): Promise<string | undefined> {
  try {
    const name = await targetName(spec, st, domain, dns);
    if (!validDomain(name)) return undefined;
    const txt = await dns.query(name, 'TXT');
    if (txt.records.length !== 1) return undefined;
    const text = (txt.records[0] as { text: string }).text;
    for (const ch of text) if (ch.charCodeAt(0) < 0x20 || ch.charCodeAt(0) > 0x7e) return undefined;
    return await expand(text, st, domain, dns, true);
  } catch {
    return undefined;
  }
}

/** Evaluates the record of `domain`; `reachedBy` names the include: or redirect= that led here. */
async function evaluate(st: State, domain: string, dns: DnsClient, reachedBy?: string): Promise<CheckHostResult> {
  const nested = reachedBy !== undefined;
  const done = (result: SpfResult, extra: Partial<CheckHostResult> = {}): CheckHostResult => ({
    result,
    lookups: st.limits.lookups,
    voidLookups: st.limits.voids,
    ...extra,
  });
  try {
    if (!validDomain(domain)) return done('none', { reason: `"${domain}" is not a valid domain` });
    const found = await fetchRecord(dns, domain, st.limits, reachedBy);
    if (found.state === 'failed') return done('temperror', { reason: `TXT lookup of ${domain} failed` });
    if (found.state === 'none') return done('none', { reason: `${domain} has no SPF record` });
    if (found.state === 'multiple') return done('permerror', { reason: `${domain} has more than one SPF record` });
    if (found.state === 'syntax') return done('permerror', { reason: found.error });
    const { record } = found;
    for (const m of record.mechanisms) {
      if (await matches(m, st, domain, dns)) {
        const result = QUALIFIER_RESULT[m.qualifier] as SpfResult;
        if (result === 'fail' && record.exp !== undefined && !nested) {
          const exp = await explanation(record.exp, st, domain, dns);
          return done(result, exp !== undefined ? { explanation: exp } : {});
        }
        return done(result);
      }
    }
    if (record.redirect !== undefined) {
      st.limits.lookup();
      const target = await targetName(record.redirect, st, domain, dns);
      if (!validDomain(target)) return done('permerror', { reason: `redirect target "${target}" is not a domain` });
      const sub = await evaluate(st, target, dns, `redirect:${target}`);
      if (sub.result === 'none') return done('permerror', { reason: `redirect=${target} has no SPF record` });
      if (sub.result === 'fail' && !nested && sub.explanation === undefined) {
        // The explanation of a redirected record is that record's own exp (RFC 7208 6.1); the
        // record was fetched already (the lookup is cached), so nothing is counted again.
        const again = await fetchRecord(dns, target, new SpfLimits(false));
        if (again.state === 'ok' && again.record.exp !== undefined) {
          const exp = await explanation(again.record.exp, st, target, dns);
          return done('fail', exp !== undefined ? { explanation: exp } : {});
        }
      }
      return { ...sub, lookups: st.limits.lookups, voidLookups: st.limits.voids };
    }
    return done('neutral');
  } catch (err) {
    if (err instanceof SpfError) return done(err.result, { reason: err.message });
    throw err;
  }
}

/** RFC 7208 section 4: the SPF result for `input.ip` sending as `input.sender`. */
export async function checkHost(dns: DnsClient, input: CheckHostInput): Promise<CheckHostResult> {
  const ip = embeddedIpv4(input.ip) ?? input.ip;
  const family = isIP(ip);
  if (family === 0)
    return { result: 'permerror', reason: `"${input.ip}" is not an IP address`, lookups: 0, voidLookups: 0 };
  let sender = input.sender || `postmaster@${input.helo}`;
  if (!sender.includes('@')) sender = `postmaster@${sender}`;
  const at = sender.lastIndexOf('@');
  const local = sender.slice(0, at) || 'postmaster';
  const senderDomain = sender.slice(at + 1);
  if (sender.startsWith('@')) sender = `postmaster${sender}`;
  const st: State = {
    ip,
    family: family as 4 | 6,
    sender,
    local,
    senderDomain,
    helo: input.helo,
    receiver: input.receiver ?? 'unknown',
    now: input.now,
    limits: new SpfLimits(true),
  };
  return evaluate(st, (input.domain ?? senderDomain).replace(/\.$/, ''), dns);
}
