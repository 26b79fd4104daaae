/**
 * Reverse DNS of the addresses mail is delivered to: each should have a PTR record whose name
 * resolves back to the same address (forward-confirmed reverse DNS, RFC 8601 2.7.3 "iprev").
 */
import { isIP } from 'node:net';
import type { DnsClient } from '../../dns/audit-dns.js';
import { failed } from '../../dns/audit-dns.js';
import { finding } from '../../findings.js';
import { reverseName, sameAddress } from '../../net/address.js';
import type { Finding } from '../../types.js';
import type { MailHost } from '../mx/index.js';

export interface PtrEntry {
  address: string;
  host: string;
  state: 'confirmed' | 'missing' | 'mismatch' | 'failed';
  names: string[];
}

/**
 * Forward-confirmed reverse DNS of one address: its PTR names (ten at most) and whether any of
 * them resolves back to it. `failed` when the PTR lookup, or every forward lookup, failed.
 */
export async function confirmReverse(
  dns: DnsClient,
  address: string,
): Promise<{ state: PtrEntry['state']; names: string[] }> {
  const ptr = await dns.query(reverseName(address), 'PTR');
  if (failed(ptr)) return { state: 'failed', names: [] };
  if (ptr.records.length === 0) return { state: 'missing', names: [] };
  const names = ptr.records.slice(0, 10);
  const type = isIP(address) === 4 ? 'A' : 'AAAA';
  const forward = await Promise.all(names.map((n) => dns.query(n, type)));
  if (forward.some((f) => f.records.some((r) => sameAddress(r, address)))) return { state: 'confirmed', names };
  if (forward.every(failed)) return { state: 'failed', names };
  return { state: 'mismatch', names };
}

export async function fetchPtr(dns: DnsClient, hosts: MailHost[]): Promise<PtrEntry[]> {
  const seen = new Map<string, string>();
  for (const h of hosts) for (const a of h.usable) if (!seen.has(a)) seen.set(a, h.name);
  return Promise.all(
    [...seen].map(
      async ([address, host]): Promise<PtrEntry> => ({ address, host, ...(await confirmReverse(dns, address)) }),
    ),
  );
}

export function evaluatePtr(entries: PtrEntry[]): Finding[] {
  const out: Finding[] = [];
  for (const e of entries) {
    if (e.state === 'missing') {
      out.push(
        finding(
          'ptr.missing',
          e.address,
          `${e.address} (${e.host}) has no PTR record; many receivers distrust hosts without reverse DNS.`,
          { address: e.address, host: e.host },
          {
            fix: { type: 'PTR', name: reverseName(e.address), value: `${e.host}.` },
          },
        ),
      );
    } else if (e.state === 'mismatch') {
      out.push(
        finding(
          'ptr.mismatch',
          e.address,
          `The PTR of ${e.address} names ${e.names.join(', ')}, which does not resolve back to ${e.address}.`,
          {
            address: e.address,
            host: e.host,
            ptr: e.names,
          },
        ),
      );
    }
  }
  return out;
}
