/**
 * MTA-STS (RFC 8461): the `_mta-sts` TXT record (3.1), and the findings of the fetched policy.
 * The HTTPS fetch (fetch-policy.ts) runs with the probes, since it opens a connection (check.ts).
 */
import type { DnsClient } from '../../dns/audit-dns.js';
import { failed } from '../../dns/audit-dns.js';
import { finding } from '../../findings.js';
import { type Why, why } from '../../params.js';
import type { Finding, FixRecord } from '../../types.js';
import { EXTENSION_NAME, EXTENSION_VALUE, parseTagList, startsWithVersion } from '../taglist.js';
import {
  mxMatches,
  type PolicyFetch,
  type PolicyParse,
  parseStsPolicy,
  policyUrl,
  suggestedPolicy,
  validMxPattern,
} from './policy.js';

export { fetchStsPolicy } from './fetch-policy.js';
export { mxMatches, parseStsPolicy, policyMxNames, policyUrl, suggestedPolicy } from './policy.js';

export interface MtaStsInput {
  domain: string;
  name: string;
  /** `invalid`: records start with v=STSv1 but not exactly one of them parses (senders then assume no policy). */
  state: 'found' | 'missing' | 'invalid' | 'failed';
  records: string[];
  /** The policy id of the single valid record. */
  id?: string;
  /** Why the record is invalid. */
  error?: string;
  /** `error` as a reason code with its params (params.ts). */
  why?: Why;
  /** The hosts a policy must list (policyMxNames: the MX hosts, the domain for an implicit MX), for the fix. */
  mxHosts?: string[];
}

export type StsRecordParse = { ok: true; id: string } | { ok: false; error: string; why: Why };

const bad = (error: string, w: Why): StsRecordParse => ({ ok: false, error, why: w });

/**
 * Parses an `_mta-sts` TXT record (RFC 8461 3.1): "v=STSv1" first, exactly one `id` of 1 to 32
 * letters and digits, extension fields name=value; fields separated by ";" with optional white
 * space, one final ";" allowed.
 */
export function parseStsRecord(text: string): StsRecordParse {
  const list = parseTagList(text, { namePattern: EXTENSION_NAME });
  if (list.error) return bad(list.error, list.why ?? why('tags.empty'));
  if (!text.startsWith('v=STSv1') || !startsWithVersion(list, 'STSv1'))
    return bad('"v=STSv1" must be the first field', why('record.version_first', { version: 'v=STSv1' }));
  const id = list.get('id');
  if (id === undefined) return bad('the required field "id" is missing', why('record.tag_missing', { tag: 'id' }));
  if (!/^[A-Za-z0-9]{1,32}$/.test(id)) {
    return bad(`id=${id} is not 1 to 32 letters and digits`, why('record.tag_invalid', { tag: 'id', value: id }));
  }
  for (const [name, value] of list.tags.slice(1)) {
    if (!EXTENSION_VALUE.test(value)) {
      return bad(`${name}=${value} has an empty or invalid value`, why('record.tag_invalid', { tag: name, value }));
    }
  }
  return { ok: true, id };
}

/** `mxHosts`: the hosts a suggested policy lists (policyMxNames); without them no fix is suggested. */
export async function fetchMtaSts(dns: DnsClient, domain: string, mxHosts?: string[]): Promise<MtaStsInput> {
  const input = await fetchRecord(dns, domain);
  return mxHosts ? { ...input, mxHosts } : input;
}

async function fetchRecord(dns: DnsClient, domain: string): Promise<MtaStsInput> {
  const name = `_mta-sts.${domain}`;
  const a = await dns.query(name, 'TXT');
  if (failed(a)) return { domain, name, state: 'failed', records: [] };
  // RFC 8461 3.1: records not starting with "v=STSv1;" are discarded; then exactly one must remain and parse.
  const records = a.records.map((r) => r.text).filter((t) => /^v=STSv1\s*(;|$)/.test(t));
  if (records.length === 0) return { domain, name, state: 'missing', records };
  if (records.length > 1)
    return {
      domain,
      name,
      state: 'invalid',
      records,
      error: `${records.length} records start with v=STSv1`,
      why: why('record.multiple', { count: records.length }),
    };
  const parsed = parseStsRecord(records[0] as string);
  if (!parsed.ok) return { domain, name, state: 'invalid', records, error: parsed.error, why: parsed.why };
  return { domain, name, state: 'found', records, id: parsed.id };
}

export function evaluateMtaSts(input: MtaStsInput, today: Date): Finding[] {
  if (input.state === 'invalid') {
    return [
      finding(
        'mta_sts.record.invalid',
        input.name,
        `The MTA-STS record at ${input.name} is not valid (${input.error}): senders then assume ${input.domain} has no MTA-STS policy (RFC 8461 3.1).`,
        { ...input.why, records: input.records },
      ),
    ];
  }
  if (input.state !== 'missing') return [];
  const fix = stsFix(input, today, suggestedPolicy(input.mxHosts ?? []));
  return [
    finding(
      'mta_sts.missing',
      input.name,
      `${input.domain} publishes no MTA-STS record: senders cannot insist on TLS when delivering to it.`,
      {},
      input.mxHosts?.length ? { fix } : {},
    ),
  ];
}

/**
 * The `_mta-sts` record with a new id (today's date: senders fetch the policy again only when the
 * id changes, RFC 8461 3.1), and the policy it announces, which must be served first: the record
 * alone sends senders to a policy that is not there (`mta_sts.policy.unreachable`, worse than no
 * record).
 */
function stsFix(input: MtaStsInput, today: Date, policy: string): FixRecord {
  const stamp = today.toISOString().replace(/[^0-9]/g, '');
  // The day, or the second when the record already has the day's id (an id that stays is no change).
  const id = stamp.slice(0, 8) === input.id ? stamp.slice(0, 14) : stamp.slice(0, 8);
  return {
    type: 'TXT',
    name: input.name,
    value: `v=STSv1; id=${id}`,
    files: [{ url: policyUrl(input.domain), contentType: 'text/plain', content: policy }],
  };
}

/**
 * Findings of the fetched policy: unreachable, invalid, MX hosts it does not match (RFC 8461 4.1).
 * With `today`, each carries a fix: the policy to serve (every MX host; an unmatched one added to
 * the policy's own mode, patterns and max_age) and the record with a new id, without which senders
 * keep the policy they cached.
 */
export function evaluateStsPolicy(input: MtaStsInput, fetch: PolicyFetch, mxHosts: string[], today?: Date): Finding[] {
  const subject = `mta-sts.${input.domain}`;
  const hosts = input.mxHosts ?? mxHosts.map((h) => h.toLowerCase().replace(/\.$/, '')).filter(validMxPattern);
  const fixWith = (policy: string) => (today && hosts.length ? { fix: stsFix(input, today, policy) } : {});
  if (fetch.state === 'unreachable') {
    return [
      finding(
        'mta_sts.policy.unreachable',
        subject,
        `${input.domain} announces an MTA-STS policy, but ${fetch.url} could not be fetched with a valid certificate: ${fetch.error}.`,
        {
          url: fetch.url,
          ...fetch.why,
          status: fetch.status ?? null,
        },
        fixWith(suggestedPolicy(hosts)),
      ),
    ];
  }
  const parsed: PolicyParse =
    fetch.error && fetch.why ? { ok: false, error: fetch.error, why: fetch.why } : parseStsPolicy(fetch.body ?? '');
  if (!parsed.ok) {
    return [
      finding(
        'mta_sts.policy.invalid',
        subject,
        `The MTA-STS policy at ${fetch.url} does not parse: ${parsed.error}.`,
        { url: fetch.url, ...parsed.why },
        fixWith(suggestedPolicy(hosts)),
      ),
    ];
  }
  const { policy } = parsed;
  if (policy.mode === 'none') return [];
  const unmatched = mxHosts.filter((h) => !policy.mx.some((p) => mxMatches(p, h)));
  const added = unmatched.map((h) => h.toLowerCase().replace(/\.$/, '')).filter(validMxPattern);
  const fixed = fixWith(suggestedPolicy([...policy.mx, ...new Set(added)], policy.mode, policy.maxAge));
  return unmatched.map((h) =>
    finding(
      'mta_sts.mx_mismatch',
      h,
      `The MX host ${h} is not listed in the ${policy.mode} MTA-STS policy of ${input.domain} (${policy.mx.join(', ')}): ${policy.mode === 'enforce' ? 'senders that honour it will not deliver there' : 'senders will report failures'}.`,
      { host: h, mode: policy.mode, mx: policy.mx },
      { severity: policy.mode === 'enforce' ? 'critical' : 'warning', ...fixed },
    ),
  );
}
