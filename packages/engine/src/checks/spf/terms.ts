/**
 * The part of SPF evaluation both evaluators share: which record a name publishes (RFC 7208
 * 4.4-4.6), the DNS-querying term limit and the void lookup limit (4.6.4), and the lookups of the
 * `a`, `mx` and `exists` mechanisms (5.3, 5.4, 5.7) with what makes one void.
 *
 * check_host() (check-host.ts) walks one sender's path through a record and stops at the first
 * match; the audit's walk (index.ts) visits every term of every record to say what could go wrong
 * for any sender. Both count and look up through here, so that what the RFC 7208 suite proves of
 * check_host() holds for the audit's verdicts.
 */
import type { DnsClient } from '../../dns/audit-dns.js';
import { failed } from '../../dns/audit-dns.js';
import type { DnsStatus } from '../../dns/resolver.js';
import type { Why } from '../../params.js';
import { isSpfRecord, type Mechanism, parseSpf, type SpfRecord } from './parse.js';

/** Most DNS-querying terms one evaluation may use (RFC 7208 4.6.4). */
export const MAX_LOOKUPS = 10;
/** Most void lookups one evaluation may meet (RFC 7208 4.6.4). */
export const MAX_VOID_LOOKUPS = 2;
/** Most MX records an `mx` term may have (RFC 7208 4.6.4: each costs address lookups). */
export const MAX_MX_RECORDS = 10;

/** A permanent or temporary error of an evaluation (RFC 7208 2.6.6, 2.6.7). */
export class SpfError extends Error {
  constructor(
    readonly result: 'permerror' | 'temperror',
    message: string,
    /** Which limit was passed, when one was. */
    readonly limit?: 'lookups' | 'void' | 'mx',
  ) {
    super(message);
  }
}

/** Whether a lookup found nothing: NXDOMAIN or no records of the type (a "void lookup", 4.6.4). */
export function isVoidStatus(status: DnsStatus): boolean {
  return status === 'nxdomain' || status === 'nodata';
}

/**
 * The counts of RFC 7208 4.6.4 over one evaluation. `strict` (check_host) throws the permerror a
 * receiver answers as soon as a limit is passed; otherwise (the audit) counting goes on, so that
 * the report can say by how much.
 */
export class SpfLimits {
  lookups = 0;
  voids = 0;
  /** The terms (or include:/redirect: targets) whose lookups were void, in the order met. */
  readonly voidTerms: string[] = [];

  constructor(readonly strict: boolean) {}

  /** One DNS-querying term (include, a, mx, ptr, exists) or redirect. */
  lookup(): void {
    this.lookups++;
    if (this.strict && this.lookups > MAX_LOOKUPS) {
      throw new SpfError('permerror', `more than ${MAX_LOOKUPS} DNS-querying terms (RFC 7208 4.6.4)`, 'lookups');
    }
  }

  /** A term's lookups found nothing. */
  void(term: string): void {
    this.voids++;
    this.voidTerms.push(term);
    if (this.strict && this.voids > MAX_VOID_LOOKUPS) {
      throw new SpfError('permerror', `more than ${MAX_VOID_LOOKUPS} void lookups (RFC 7208 4.6.4)`, 'void');
    }
  }
}

/** What a name publishes as SPF: one record that parses, or why there is none to evaluate. */
export type RecordLookup =
  | { state: 'ok'; text: string; record: SpfRecord }
  | { state: 'none' }
  | { state: 'multiple' }
  | { state: 'syntax'; text: string; error: string; why: Why }
  | { state: 'failed' };

/**
 * The SPF record of `name` (RFC 7208 4.4, 4.5): its TXT records starting with "v=spf1", exactly
 * one of which must be there and parse. For an include: or redirect= target (`reachedBy`), a name
 * without TXT records is a void lookup.
 */
export async function fetchRecord(
  dns: DnsClient,
  name: string,
  limits: SpfLimits,
  reachedBy?: string,
): Promise<RecordLookup> {
  const txt = await dns.query(name, 'TXT');
  if (failed(txt)) return { state: 'failed' };
  if (reachedBy !== undefined && isVoidStatus(txt.status)) limits.void(reachedBy);
  const spf = txt.records.map((r) => r.text).filter(isSpfRecord);
  if (spf.length === 0) return { state: 'none' };
  if (spf.length > 1) return { state: 'multiple' };
  const text = spf[0] as string;
  const parsed = parseSpf(text);
  return parsed.ok
    ? { state: 'ok', text, record: parsed.record }
    : { state: 'syntax', text, error: parsed.error, why: parsed.why };
}

/** Address families of the lookups: the client's one for check_host, both for the audit. */
export type Families = readonly (4 | 6)[];

/** What the lookups of an `a`, `mx` or `exists` term found. */
export interface TermLookup {
  /** `a`, `exists`: the addresses found. */
  addresses: string[];
  /** `mx`: the exchanges of the target's MX records, in the order given. */
  exchanges: string[];
}

const addressType = (family: 4 | 6) => (family === 4 ? 'A' : 'AAAA');

/**
 * The addresses of `name` in the given families. A failed lookup is a temperror (RFC 7208 5: "If
 * the server returns an error ... temperror").
 */
export async function addressesOf(
  dns: DnsClient,
  name: string,
  families: Families,
): Promise<{ addresses: string[]; void: boolean }> {
  const answers = await Promise.all(families.map((f) => dns.query(name, addressType(f))));
  const bad = answers.find(failed);
  if (bad) throw new SpfError('temperror', `the lookup of ${name} ${bad.type} failed`);
  return { addresses: answers.flatMap((a) => a.records), void: answers.every((a) => isVoidStatus(a.status)) };
}

/**
 * The lookups of one `a`, `mx` or `exists` term at `target` (macros already expanded), counting a
 * void lookup once per term however many types were asked (4.6.4), and the `mx` limit of 10 MX
 * records. The term itself has been counted by the caller (SpfLimits.lookup).
 */
export async function lookupTerm(
  dns: DnsClient,
  m: Mechanism,
  target: string,
  families: Families,
  limits: SpfLimits,
): Promise<TermLookup> {
  switch (m.name) {
    case 'a': {
      const found = await addressesOf(dns, target, families);
      if (found.void) limits.void(m.raw);
      return { addresses: found.addresses, exchanges: [] };
    }
    case 'exists': {
      // RFC 7208 5.7: an A query whatever the client's family.
      const found = await addressesOf(dns, target, [4]);
      if (found.void) limits.void(m.raw);
      return { addresses: found.addresses, exchanges: [] };
    }
    case 'mx': {
      const mx = await dns.query(target, 'MX');
      if (failed(mx)) throw new SpfError('temperror', `the lookup of ${target} MX failed`);
      if (isVoidStatus(mx.status)) limits.void(m.raw);
      if (mx.records.length > MAX_MX_RECORDS) {
        throw new SpfError(
          'permerror',
          `${target} has ${mx.records.length} MX records, more than ${MAX_MX_RECORDS} (RFC 7208 4.6.4)`,
          'mx',
        );
      }
      return { addresses: [], exchanges: mx.records.map((r) => r.exchange).filter((e) => e !== '') };
    }
    default:
      throw new Error(`lookupTerm: ${m.name} is not an a, mx or exists term`);
  }
}
