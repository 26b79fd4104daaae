/**
 * DANE for SMTP (RFC 7672, RFC 6698): whether the chain served on port 25 matches a TLSA record.
 * Only DANE-TA(2) and DANE-EE(3) are usable for SMTP (RFC 7672 3.1.3); selectors 0 (certificate)
 * and 1 (SubjectPublicKeyInfo); matching types 0 (exact), 1 (SHA-256), 2 (SHA-512). The TLSA
 * records are those at _25._tcp.<MX host>, used only when the resolver validated them.
 */
import { createHash, type X509Certificate } from 'node:crypto';
import { type DnsClient, failed } from '../dns/audit-dns.js';
import type { TlsaRecord } from '../dns/records.js';

export function usableTlsa(records: TlsaRecord[]): TlsaRecord[] {
  return records.filter((r) => (r.usage === 2 || r.usage === 3) && r.selector <= 1 && r.matchingType <= 2);
}

function association(cert: X509Certificate, selector: number, matchingType: number): string {
  const data = selector === 0 ? cert.raw : cert.publicKey.export({ type: 'spki', format: 'der' });
  if (matchingType === 0) return data.toString('hex');
  return createHash(matchingType === 1 ? 'sha256' : 'sha512')
    .update(data)
    .digest('hex');
}

/** Whether any usable TLSA record matches the served chain (leaf first). */
export function daneMatches(records: TlsaRecord[], chain: X509Certificate[]): boolean {
  return usableTlsa(records).some((r) => {
    const candidates = r.usage === 3 ? chain.slice(0, 1) : chain;
    return candidates.some((c) => association(c, r.selector, r.matchingType) === r.data.toLowerCase());
  });
}

export interface DaneInput {
  host: string;
  records: TlsaRecord[];
  validated: boolean;
}

export async function fetchDane(dns: DnsClient, mxHosts: { name: string }[]): Promise<DaneInput[]> {
  return Promise.all(
    mxHosts.map(async (h) => {
      const a = await dns.query(`_25._tcp.${h.name}`, 'TLSA');
      return { host: h.name, records: failed(a) ? [] : a.records, validated: a.ad };
    }),
  );
}
