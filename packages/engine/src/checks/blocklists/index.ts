/**
 * DNS blocklists (RFC 5782): each mail host address against the IP lists, the domain against the
 * domain lists. An answer in 127.0.0.0/8 is a listing, except the error codes lists use to refuse
 * a query (127.255.255.0/24, 127.0.0.1, 127.0.1.255): those say "not known", never "listed".
 */
import { isIP } from 'node:net';
import type { DnsClient } from '../../dns/audit-dns.js';
import { failed } from '../../dns/audit-dns.js';
import { finding } from '../../findings.js';
import { expandIpv6 } from '../../net/address.js';
import type { Finding } from '../../types.js';

/**
 * Built-in lists when none are given. Each has its own terms of use (docs/blocklists.md): they are
 * free for low-volume, non-commercial use, and Spamhaus refuses queries arriving through large
 * public resolvers (answering 127.255.255.254, reported as blocklist.query.refused).
 */
export const DEFAULT_IP_BLOCKLISTS = ['zen.spamhaus.org', 'bl.spamcop.net', 'b.barracudacentral.org'];
export const DEFAULT_DOMAIN_BLOCKLISTS = ['dbl.spamhaus.org'];

/** Meanings of return codes of lists whose codes are published. */
const MEANINGS: Record<string, Record<string, string>> = {
  'zen.spamhaus.org': {
    '127.0.0.2': 'SBL: Spamhaus Block List',
    '127.0.0.3': 'SBL CSS: snowshoe spam',
    '127.0.0.4': 'XBL: exploited host (CBL)',
    '127.0.0.9': 'SBL DROP: hijacked network',
    '127.0.0.10': 'PBL: end-user range (ISP maintained)',
    '127.0.0.11': 'PBL: end-user range (Spamhaus maintained)',
  },
  'dbl.spamhaus.org': {
    '127.0.1.2': 'spam domain',
    '127.0.1.4': 'phishing domain',
    '127.0.1.5': 'malware domain',
    '127.0.1.6': 'botnet C&C domain',
  },
};

export type DnsblVerdict = 'listed' | 'refused';

/** How an A answer from a list reads (RFC 5782 2.1, and the lists' documented error codes). */
export function interpretAnswer(address: string): DnsblVerdict {
  if (!address.startsWith('127.')) return 'refused';
  if (address.startsWith('127.255.255.') || address === '127.0.0.1' || address === '127.0.1.255') return 'refused';
  return 'listed';
}

export interface BlocklistEntry {
  kind: 'ip' | 'domain';
  zone: string;
  subject: string;
  query: string;
  state: 'listed' | 'refused' | 'clear' | 'failed';
  answers: string[];
  reason?: string;
}

export function dnsblQueryName(subject: string, zone: string): string {
  if (isIP(subject) === 4) return `${subject.split('.').reverse().join('.')}.${zone}`;
  if (isIP(subject) === 6) return `${expandIpv6(subject).replaceAll(':', '').split('').reverse().join('.')}.${zone}`;
  return `${subject}.${zone}`;
}

export async function fetchBlocklists(
  dns: DnsClient,
  domain: string,
  addresses: string[],
  ipLists: string[],
  domainLists: string[],
): Promise<BlocklistEntry[]> {
  const jobs: { kind: 'ip' | 'domain'; zone: string; subject: string }[] = [
    ...addresses.flatMap((a) => ipLists.map((zone) => ({ kind: 'ip' as const, zone, subject: a }))),
    ...domainLists.map((zone) => ({ kind: 'domain' as const, zone, subject: domain })),
  ];
  return Promise.all(
    jobs.map(async (j): Promise<BlocklistEntry> => {
      const query = dnsblQueryName(j.subject, j.zone);
      const a = await dns.query(query, 'A');
      const base = { ...j, query, answers: a.records };
      if (failed(a)) return { ...base, state: 'failed' };
      if (a.records.length === 0) return { ...base, state: 'clear' };
      const listed = a.records.some((r) => interpretAnswer(r) === 'listed');
      const entry: BlocklistEntry = { ...base, state: listed ? 'listed' : 'refused' };
      if (listed) {
        const txt = await dns.query(query, 'TXT');
        const reason = txt.records.map((r) => r.text).join(' ');
        if (reason) entry.reason = reason.slice(0, 500);
      }
      return entry;
    }),
  );
}

export function evaluateBlocklists(entries: BlocklistEntry[]): Finding[] {
  const out: Finding[] = [];
  for (const e of entries) {
    const listedAnswer = e.answers.find((r) => interpretAnswer(r) === 'listed');
    if (e.state === 'listed' && listedAnswer) {
      const meaning = MEANINGS[e.zone]?.[listedAnswer];
      const params = { zone: e.zone, answer: listedAnswer, meaning: meaning ?? null, reason: e.reason ?? null };
      if (e.kind === 'ip') {
        out.push(
          finding(
            'blocklist.ip.listed',
            e.subject,
            `${e.subject} is listed on ${e.zone} (${listedAnswer}${meaning ? `: ${meaning}` : ''})${e.reason ? `: ${e.reason}` : ''}.`,
            {
              address: e.subject,
              ...params,
            },
          ),
        );
      } else {
        out.push(
          finding(
            'blocklist.domain.listed',
            e.subject,
            `${e.subject} is listed on ${e.zone} (${listedAnswer}${meaning ? `: ${meaning}` : ''})${e.reason ? `: ${e.reason}` : ''}.`,
            {
              domain: e.subject,
              ...params,
            },
          ),
        );
      }
    } else if (e.state === 'refused') {
      out.push(
        finding(
          'blocklist.query.refused',
          `${e.zone}:${e.subject}`,
          `${e.zone} answered ${e.answers.join(', ')} for ${e.subject}: an error code, so it is not known whether it is listed.`,
          {
            zone: e.zone,
            subject: e.subject,
            answer: e.answers[0],
          },
        ),
      );
    }
  }
  return out;
}
