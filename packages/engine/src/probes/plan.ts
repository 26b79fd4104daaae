/**
 * Which addresses and ports to probe (CONTRACT.md section 3, "Hosts probed"): SMTP on the mail
 * hosts, IMAP and POP3 on them and on the mail-access hosts, each (address, port) once.
 */
import type { DnsClient } from '../dns/audit-dns.js';
import type { PortTarget } from './types.js';

/** A host mail is delivered to, with the addresses the audit may contact (the MX check's MailHost). */
export interface ProbeHost {
  name: string;
  usable: string[];
}

export interface AccessHost {
  name: string;
  addresses: string[];
}

/** Names RFC 6186 and common practice use for mail access; only those that resolve are probed. */
export async function discoverAccessHosts(
  dns: DnsClient,
  domain: string,
  usable: (a: string) => boolean,
  extra: string[] = [],
): Promise<AccessHost[]> {
  const names = new Set([...['mail', 'imap', 'pop', 'pop3'].map((p) => `${p}.${domain}`), ...extra]);
  const srv = await Promise.all(
    ['_imap._tcp', '_imaps._tcp', '_pop3._tcp', '_pop3s._tcp'].map((s) => dns.query(`${s}.${domain}`, 'SRV')),
  );
  for (const a of srv) for (const r of a.records) if (r.target && r.target !== '.') names.add(r.target);
  const hosts = await Promise.all(
    [...names].map(async (name) => {
      // A first: most of these names do not exist, and a name that does not exist (NXDOMAIN) has
      // no AAAA either; asked after the A, not beside it, that is a query saved per missing name
      // (four a domain at a hoster whose customers have no mail., imap., pop. or pop3. names).
      const a = await dns.query(name, 'A');
      if (a.status === 'nxdomain') return { name, addresses: [] };
      const aaaa = await dns.query(name, 'AAAA');
      return { name, addresses: [...a.records, ...aaaa.records].filter(usable) };
    }),
  );
  return hosts.filter((h) => h.addresses.length > 0);
}

/** Every (address, port) to probe, each once, with the names that led to the address. */
export function planTargets(mxHosts: ProbeHost[], access: AccessHost[]): PortTarget[] {
  const mxNames = new Map<string, string[]>();
  for (const h of mxHosts) for (const a of h.usable) mxNames.set(a, [...(mxNames.get(a) ?? []), h.name]);
  const accessNames = new Map<string, string[]>(mxNames);
  for (const h of access)
    for (const a of h.addresses) accessNames.set(a, [...new Set([...(accessNames.get(a) ?? []), h.name])]);
  const targets: PortTarget[] = [];
  for (const [address, names] of mxNames) {
    for (const [port, tlsMode] of [
      [25, 'starttls'],
      [465, 'implicit'],
      [587, 'starttls'],
    ] as const) {
      targets.push({ host: names[0] as string, names, address, port, protocol: 'smtp', tlsMode });
    }
  }
  for (const [address, names] of accessNames) {
    for (const [port, protocol, tlsMode] of [
      [143, 'imap', 'starttls'],
      [993, 'imap', 'implicit'],
      [110, 'pop3', 'starttls'],
      [995, 'pop3', 'implicit'],
    ] as const) {
      targets.push({ host: names[0] as string, names, address, port, protocol, tlsMode });
    }
  }
  return targets;
}
