/**
 * DMARC (RFC 7489): the policy record at `_dmarc.<domain>` or, failing that, at the
 * organizational domain found with the public suffix list (3.2, 6.6.3); its syntax (6.3, 6.4);
 * its policy, pct and reporting addresses; and the authorization records of report destinations
 * outside the policy domain's organization (7.1).
 */
import { getDomain } from 'tldts';
import type { DnsClient } from '../../dns/audit-dns.js';
import { failed } from '../../dns/audit-dns.js';
import { finding } from '../../findings.js';
import { type Why, why } from '../../params.js';
import type { Finding } from '../../types.js';
import { parseTagList, startsWithVersion } from '../taglist.js';

/** The organizational domain (RFC 7489 3.2) by the public suffix list; the domain itself if none. */
export function organizationalDomain(domain: string): string {
  return getDomain(domain, { allowPrivateDomains: false }) ?? domain;
}

export interface DmarcRecord {
  p: 'none' | 'quarantine' | 'reject';
  sp?: 'none' | 'quarantine' | 'reject';
  pct: number;
  rua: string[];
  ruf: string[];
}

export type DmarcParse = { ok: true; record: DmarcRecord } | { ok: false; error: string; why: Why };

const bad = (error: string, w: Why): DmarcParse => ({ ok: false, error, why: w });

const POLICIES = new Set(['none', 'quarantine', 'reject']);

/** Largest report size a `!` suffix may give: below 2^64 (RFC 7489 6.4 leaves it unbounded; receivers hold it in 64 bits). */
const MAX_SIZE = 2n ** 64n;

function parseUris(value: string, tag: string): string[] | DmarcParse {
  // dmarc-urilist = dmarc-uri *(*WSP "," *WSP dmarc-uri) (RFC 7489 6.4)
  const uris = value.split(',').map((u) => u.trim());
  for (const u of uris) {
    // dmarc-uri = URI [ "!" 1*DIGIT [ "k" / "m" / "g" / "t" ] ]; quoted letters match either case.
    const m = /^([a-z][a-z0-9+.-]*):([^!\s]+)(?:!(\d+)[kmgt]?)?$/i.exec(u);
    if (!m) return bad(`${tag} has an invalid URI "${u}"`, why('record.uri_invalid', { tag, uri: u }));
    if (m[3] !== undefined && BigInt(m[3]) >= MAX_SIZE) {
      return bad(`${tag} has a size limit too large in "${u}"`, why('record.uri_invalid', { tag, uri: u }));
    }
    if ((m[1] as string).toLowerCase() === 'mailto' && !/^[^@\s]+@[^@\s]+\.[^@\s]+$/.test(m[2] as string)) {
      return bad(`${tag} has an invalid address "${u}"`, why('record.uri_invalid', { tag, uri: u }));
    }
  }
  return uris;
}

/** Whether a TXT string is a DMARC record as receivers select them: it starts with "v=DMARC1" (RFC 7489 6.6.3). */
export function isDmarcRecord(text: string): boolean {
  // The tag name "v" is case-insensitive, the value "DMARC1" is not (6.4).
  return /^[vV][ \t]*=[ \t]*DMARC1[ \t]*(;|$)/.test(text);
}

/**
 * Parses a DMARC record under the rules of RFC 7489 6.3 and 6.4: tag names in any case, values of
 * p, sp, adkim, aspf and fo in any case, unknown tags ignored (6.3), empty tags between ";" skipped
 * as receivers do (docs/conformance.md).
 */
export function parseDmarc(text: string): DmarcParse {
  // 6.6.3: records that do not start with "v=DMARC1" are discarded; white space first is such a record.
  if (/^\s/.test(text)) {
    return bad(
      'the record starts with white space, and receivers discard records that do not start with "v=DMARC1" (RFC 7489 6.6.3)',
      why('record.leading_space'),
    );
  }
  const list = parseTagList(text, { lowerNames: true, skipEmpty: true });
  if (list.error) return bad(list.error, list.why ?? why('tags.empty'));
  if (!startsWithVersion(list, 'DMARC1')) {
    return bad('"v=DMARC1" must be the first tag', why('record.version_first', { version: 'v=DMARC1' }));
  }
  const p = list.get('p')?.toLowerCase();
  if (p === undefined) return bad('the required tag "p" is missing', why('record.tag_missing', { tag: 'p' }));
  if (!POLICIES.has(p)) {
    const value = list.get('p') as string;
    return bad(`p=${value} is not none, quarantine or reject`, why('record.tag_invalid', { tag: 'p', value }));
  }
  const record: DmarcRecord = { p: p as DmarcRecord['p'], pct: 100, rua: [], ruf: [] };
  const sp = list.get('sp')?.toLowerCase();
  if (sp !== undefined) {
    if (!POLICIES.has(sp)) {
      const value = list.get('sp') as string;
      return bad(`sp=${value} is not none, quarantine or reject`, why('record.tag_invalid', { tag: 'sp', value }));
    }
    record.sp = sp as DmarcRecord['p'];
  }
  const pct = list.get('pct');
  if (pct !== undefined) {
    if (!/^\d{1,3}$/.test(pct) || Number(pct) > 100)
      return bad(
        `pct=${pct} is not a whole number from 0 to 100`,
        why('record.tag_invalid', { tag: 'pct', value: pct }),
      );
    record.pct = Number(pct);
  }
  for (const tag of ['adkim', 'aspf']) {
    const v = list.get(tag);
    if (v !== undefined && !/^[rs]$/i.test(v))
      return bad(`${tag}=${v} is not r or s`, why('record.tag_invalid', { tag, value: v }));
  }
  const fo = list.get('fo');
  if (fo !== undefined && !/^[01ds](\s*:\s*[01ds])*$/i.test(fo))
    return bad(`fo=${fo} is not a list of 0, 1, d, s`, why('record.tag_invalid', { tag: 'fo', value: fo }));
  const rf = list.get('rf');
  // dmarc-rfmt = "rf" *WSP "=" *WSP Keyword *(*WSP ":" Keyword); Keyword = Ldh-str (RFC 5321 4.1.2)
  if (rf !== undefined && !rf.split(/\s*:\s*/).every((k) => /^[A-Za-z0-9-]*[A-Za-z0-9]$/.test(k)))
    return bad(`rf=${rf} is not a list of report format names`, why('record.tag_invalid', { tag: 'rf', value: rf }));
  const ri = list.get('ri');
  // A 32-bit unsigned number of seconds (6.3).
  if (ri !== undefined && (!/^\d{1,10}$/.test(ri) || Number(ri) > 0xffff_ffff))
    return bad(
      `ri=${ri} is not a whole number of seconds below 2^32`,
      why('record.tag_invalid', { tag: 'ri', value: ri }),
    );
  for (const tag of ['rua', 'ruf'] as const) {
    const v = list.get(tag);
    if (v === undefined) continue;
    const uris = parseUris(v, tag);
    if (!Array.isArray(uris)) return uris;
    record[tag] = uris;
  }
  return { ok: true, record };
}

export interface DmarcInput {
  domain: string;
  /** Where the record was looked for and found. */
  recordName: string;
  policyDomain: string;
  inherited: boolean;
  /** `failed`: the lookup could not be answered. */
  state: 'found' | 'missing' | 'multiple' | 'failed';
  text?: string;
  /** Report destinations outside the policy domain's organization and whether they authorized it. */
  external: { uri: string; destination: string; authName: string; authorized: boolean | 'unknown' }[];
}

/**
 * The records receivers select (6.6.3: those starting with "v=DMARC1"); when there is none, those
 * that name DMARC1 elsewhere (misplaced, or after white space), so that their syntax is reported
 * rather than the record silently called missing.
 */
function dmarcCandidates(texts: string[]): string[] {
  const proper = texts.filter(isDmarcRecord);
  if (proper.length > 0) return proper;
  return texts.filter((t) => /(^|;)\s*v\s*=\s*DMARC1\s*(;|$)/i.test(t)).slice(0, 1);
}

export async function fetchDmarc(dns: DnsClient, domain: string): Promise<DmarcInput> {
  const base = { domain, external: [] as DmarcInput['external'] };
  let recordName = `_dmarc.${domain}`;
  let policyDomain = domain;
  let inherited = false;
  let answer = await dns.query(recordName, 'TXT');
  if (failed(answer)) return { ...base, recordName, policyDomain, inherited, state: 'failed' };
  let records = dmarcCandidates(answer.records.map((r) => r.text));
  const org = organizationalDomain(domain);
  if (records.length === 0 && org !== domain) {
    recordName = `_dmarc.${org}`;
    policyDomain = org;
    inherited = true;
    answer = await dns.query(recordName, 'TXT');
    if (failed(answer)) return { ...base, recordName, policyDomain, inherited, state: 'failed' };
    records = dmarcCandidates(answer.records.map((r) => r.text));
  }
  if (records.length === 0)
    return { ...base, recordName: `_dmarc.${domain}`, policyDomain: domain, inherited: false, state: 'missing' };
  if (records.length > 1) return { ...base, recordName, policyDomain, inherited, state: 'multiple' };
  const text = records[0] as string;
  const input: DmarcInput = { ...base, recordName, policyDomain, inherited, state: 'found', text };
  const parsed = parseDmarc(text);
  if (!parsed.ok) return input;
  const policyOrg = organizationalDomain(policyDomain);
  const seen = new Set<string>();
  await Promise.all(
    [...parsed.record.rua, ...parsed.record.ruf].map(async (uri) => {
      const m = /^mailto:[^@]+@([^!]+)/i.exec(uri);
      if (!m) return;
      const destination = (m[1] as string).toLowerCase().replace(/\.$/, '');
      if (organizationalDomain(destination) === policyOrg || seen.has(destination)) return;
      seen.add(destination);
      const authName = `${policyDomain}._report._dmarc.${destination}`;
      const auth = await dns.query(authName, 'TXT');
      const authorized = failed(auth) ? 'unknown' : auth.records.some((r) => isDmarcRecord(r.text.trim()));
      input.external.push({ uri, destination, authName, authorized });
    }),
  );
  return input;
}

export function evaluateDmarc(input: DmarcInput): Finding[] {
  const out: Finding[] = [];
  const { domain, recordName } = input;
  const starter = `v=DMARC1; p=quarantine; rua=mailto:dmarc-reports@${domain}`;
  if (input.state === 'failed') return out;
  if (input.state === 'missing') {
    out.push(
      finding(
        'dmarc.missing',
        `_dmarc.${domain}`,
        `Neither ${domain} nor its organizational domain publishes a DMARC record: receivers have no policy for mail that fails SPF and DKIM.`,
        {},
        {
          fix: { type: 'TXT', name: `_dmarc.${domain}`, value: starter },
        },
      ),
    );
    return out;
  }
  if (input.state === 'multiple') {
    out.push(
      finding(
        'dmarc.multiple',
        recordName,
        `${recordName} has more than one DMARC record: receivers then apply none (RFC 7489 6.6.3).`,
      ),
    );
    return out;
  }
  const parsed = parseDmarc(input.text as string);
  if (!parsed.ok) {
    const text = input.text as string;
    // A record that only needs its leading white space removed gets that as its fix.
    const trimmed = text.trim();
    const fix =
      trimmed !== text && parseDmarc(trimmed).ok ? { type: 'TXT', name: recordName, value: trimmed } : undefined;
    out.push(
      finding(
        'dmarc.syntax',
        recordName,
        `The DMARC record at ${recordName} does not parse: ${parsed.error}.`,
        { ...parsed.why, text },
        fix ? { fix } : {},
      ),
    );
    return out;
  }
  const r = parsed.record;
  if (input.inherited) {
    out.push(
      finding(
        'dmarc.inherited',
        `_dmarc.${domain}`,
        `${domain} has no DMARC record of its own; the policy of its organizational domain ${input.policyDomain} applies.`,
        {
          organizationalDomain: input.policyDomain,
        },
      ),
    );
  }
  const policy = input.inherited ? (r.sp ?? r.p) : r.p;
  const replaceTag = (text: string, tag: string, value: string) =>
    new RegExp(`(^|;)\\s*${tag}\\s*=`, 'i').test(text)
      ? text.replace(new RegExp(`((?:^|;)\\s*${tag}\\s*=)\\s*[^;]*`, 'i'), `$1${value}`)
      : `${text.replace(/;\s*$/, '')}; ${tag}=${value}`;
  // One suggested record for every finding of this record, with all their changes: a fix that
  // undid another's (p=quarantine in one, the old p=none beside the new rua in the next) would
  // bring back the finding its neighbour fixed.
  let fixed = input.text as string;
  if (policy === 'none') fixed = replaceTag(fixed, input.inherited && r.sp ? 'sp' : 'p', 'quarantine');
  if (r.rua.length === 0) fixed = replaceTag(fixed, 'rua', `mailto:dmarc-reports@${input.policyDomain}`);
  const fix = { type: 'TXT', name: recordName, value: fixed };
  if (policy === 'none') {
    out.push(
      finding(
        'dmarc.policy.none',
        recordName,
        `The DMARC policy of ${input.policyDomain} is p=none: mail failing DMARC is delivered as usual.`,
        { policy },
        { fix },
      ),
    );
  }
  if (r.pct < 100) {
    out.push(
      finding(
        'dmarc.pct.partial',
        recordName,
        `pct=${r.pct}: the DMARC policy applies to ${r.pct}% of failing mail only.`,
        { pct: r.pct },
      ),
    );
  }
  if (r.rua.length === 0) {
    out.push(
      finding(
        'dmarc.rua.missing',
        recordName,
        `The DMARC record of ${input.policyDomain} asks for no aggregate reports (rua): failures go unseen.`,
        {},
        { fix },
      ),
    );
  }
  for (const e of input.external) {
    if (e.authorized !== false) continue;
    out.push(
      finding(
        'dmarc.rua.unauthorized',
        e.authName,
        `${e.destination} has not authorized reports for ${input.policyDomain} (no v=DMARC1 record at ${e.authName}): receivers will not send them there.`,
        { address: e.uri, destination: e.destination, policyDomain: input.policyDomain },
        { fix: { type: 'TXT', name: e.authName, value: 'v=DMARC1' } },
      ),
    );
  }
  return out;
}
