/**
 * MTA-STS (RFC 8461): the `_mta-sts` TXT record (3.1). The HTTPS policy fetch and the MX match
 * belong to the probes, which open connections.
 */
import type { DnsClient } from '../../dns/audit-dns.js';
import { failed } from '../../dns/audit-dns.js';
import { finding } from '../../findings.js';
import type { Finding } from '../../types.js';
import { parseTagList } from '../taglist.js';

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
