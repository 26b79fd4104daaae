/**
 * MTA-STS (RFC 8461): the `_mta-sts` TXT record (3.1). The HTTPS policy fetch and the MX match
 * belong to the probes, which open connections.
 */
import type { DnsClient } from '../../dns/audit-dns.js';
import { failed } from '../../dns/audit-dns.js';
import { finding } from '../../findings.js';
import type { Finding } from '../../types.js';
import { parseTagList } from '../taglist.js';
import { mxMatches, type PolicyFetch, parseStsPolicy } from './policy.js';

export { fetchStsPolicy, mxMatches, parseStsPolicy } from './policy.js';

export interface MtaStsInput {
  domain: string;
  name: string;
  state: 'found' | 'missing' | 'failed';
  records: string[];
  /** The policy id of the single valid record. */
  id?: string;
}

export async function fetchMtaSts(dns: DnsClient, domain: string): Promise<MtaStsInput> {
  const name = `_mta-sts.${domain}`;
  const a = await dns.query(name, 'TXT');
  if (failed(a)) return { domain, name, state: 'failed', records: [] };
  const records = a.records.map((r) => r.text).filter((t) => /^v=STSv1\s*(;|$)/.test(t));
  const input: MtaStsInput = { domain, name, state: records.length ? 'found' : 'missing', records };
  if (records.length === 1) {
    const id = parseTagList(records[0] as string).get('id');
    if (id && /^[A-Za-z0-9]{1,32}$/.test(id)) input.id = id;
  }
  return input;
}

export function evaluateMtaSts(input: MtaStsInput, today: Date): Finding[] {
  if (input.state !== 'missing') return [];
  const id = today.toISOString().slice(0, 10).replaceAll('-', '');
  return [
    finding(
      'mta_sts.missing',
      input.name,
      `${input.domain} publishes no MTA-STS record: senders cannot insist on TLS when delivering to it.`,
      {},
      {
        fix: { type: 'TXT', name: input.name, value: `v=STSv1; id=${id}` },
      },
    ),
  ];
}

/** Findings of the fetched policy: unreachable, invalid, MX hosts it does not match (RFC 8461 4.1). */
export function evaluateStsPolicy(input: MtaStsInput, fetch: PolicyFetch, mxHosts: string[]): Finding[] {
  const subject = `mta-sts.${input.domain}`;
  if (fetch.state === 'unreachable') {
    return [
      finding(
        'mta_sts.policy.unreachable',
        subject,
        `${input.domain} announces an MTA-STS policy, but ${fetch.url} could not be fetched with a valid certificate: ${fetch.error}.`,
        {
          url: fetch.url,
          error: fetch.error,
          status: fetch.status ?? null,
        },
      ),
    ];
  }
  const parsed = fetch.error ? ({ ok: false, error: fetch.error } as const) : parseStsPolicy(fetch.body ?? '');
  if (!parsed.ok) {
    return [
      finding(
        'mta_sts.policy.invalid',
        subject,
        `The MTA-STS policy at ${fetch.url} does not parse: ${parsed.error}.`,
        { url: fetch.url, error: parsed.error },
      ),
    ];
  }
  const { policy } = parsed;
  if (policy.mode === 'none') return [];
  return mxHosts
    .filter((h) => !policy.mx.some((p) => mxMatches(p, h)))
    .map((h) =>
      finding(
        'mta_sts.mx_mismatch',
        h,
        `The MX host ${h} is not listed in the ${policy.mode} MTA-STS policy of ${input.domain} (${policy.mx.join(', ')}): ${policy.mode === 'enforce' ? 'senders that honour it will not deliver there' : 'senders will report failures'}.`,
        { host: h, mode: policy.mode, mx: policy.mx },
        { severity: policy.mode === 'enforce' ? 'critical' : 'warning' },
      ),
    );
}
