/**
 * SMTP TLS Reporting (RFC 8460 3): the `_smtp._tls` TXT record and its syntax.
 */
import type { DnsClient } from '../../dns/audit-dns.js';
import { failed } from '../../dns/audit-dns.js';
import { finding } from '../../findings.js';
import { type Why, why } from '../../params.js';
import type { Finding } from '../../types.js';
import { EXTENSION_NAME, EXTENSION_VALUE, parseTagList, startsWithVersion } from '../taglist.js';

export interface TlsRptInput {
  domain: string;
  name: string;
  state: 'found' | 'missing' | 'failed';
  records: string[];
}

/** Whether `uri` is a reporting URI RFC 8460 3 allows: mailto: with an address, or https: with a host. */
function validRua(uri: string): boolean {
  if (/^mailto:[^@\s]+@[^@\s]+$/i.test(uri)) return true;
  if (!/^https:\/\/[^\s/]+\S*$/i.test(uri)) return false;
  try {
    new URL(uri);
    return true;
  } catch {
    return false;
  }
}

/**
 * Checks one TLS-RPT record (RFC 8460 3): "v=TLSRPTv1" first, one or more `rua` fields each a
 * comma-separated list of mailto: or https: URIs, extension fields name=value. Returns why it is
 * invalid, or undefined. Pure.
 */
export function tlsRptError(text: string): string | undefined {
  return tlsRptProblem(text)?.error;
}

/** Why a TLS-RPT record is invalid, in English and as a reason code (params.ts), or undefined. */
export function tlsRptProblem(text: string): { error: string; why: Why } | undefined {
  const list = parseTagList(text, { namePattern: EXTENSION_NAME, repeatable: ['rua'] });
  if (list.error) return { error: list.error, why: list.why ?? why('tags.empty') };
  if (!startsWithVersion(list, 'TLSRPTv1')) {
    return {
      error: '"v=TLSRPTv1" must be the first field',
      why: why('record.version_first', { version: 'v=TLSRPTv1' }),
    };
  }
  const ruas = list.all('rua');
  if (ruas.length === 0)
    return { error: 'the required field "rua" is missing', why: why('record.tag_missing', { tag: 'rua' }) };
  for (const rua of ruas) {
    for (const uri of rua.split(/[ \t]*,[ \t]*/)) {
      if (!validRua(uri)) {
        return {
          error: `rua "${uri}" is neither a mailto: nor an https: URI`,
          why: why('record.uri_invalid', { tag: 'rua', uri }),
        };
      }
    }
  }
  for (const [name, value] of list.tags.slice(1)) {
    if (name !== 'rua' && !EXTENSION_VALUE.test(value)) {
      return {
        error: `${name}=${value} has an empty or invalid value`,
        why: why('record.tag_invalid', { tag: name, value }),
      };
    }
  }
  return undefined;
}

export async function fetchTlsRpt(dns: DnsClient, domain: string): Promise<TlsRptInput> {
  const name = `_smtp._tls.${domain}`;
  const a = await dns.query(name, 'TXT');
  if (failed(a)) return { domain, name, state: 'failed', records: [] };
  // Records not starting with v=TLSRPTv1 are discarded (RFC 8460 3).
  const records = a.records.map((r) => r.text).filter((t) => /^v=TLSRPTv1\s*(;|$)/.test(t));
  return { domain, name, state: records.length ? 'found' : 'missing', records };
}

export function evaluateTlsRpt(input: TlsRptInput): Finding[] {
  if (input.state === 'failed') return [];
  if (input.state === 'missing') {
    return [
      finding(
        'tlsrpt.missing',
        input.name,
        `${input.domain} asks for no SMTP TLS reports: failed TLS deliveries to it go unreported.`,
        {},
        {
          fix: { type: 'TXT', name: input.name, value: `v=TLSRPTv1; rua=mailto:tls-reports@${input.domain}` },
        },
      ),
    ];
  }
  if (input.records.length > 1) {
    return [
      finding(
        'tlsrpt.syntax',
        input.name,
        `${input.name} has ${input.records.length} TLS-RPT records; senders then assume none (RFC 8460 3).`,
        { ...why('record.multiple', { count: input.records.length }) },
      ),
    ];
  }
  const problem = tlsRptProblem(input.records[0] as string);
  return problem
    ? [
        finding('tlsrpt.syntax', input.name, `The TLS-RPT record at ${input.name} does not parse: ${problem.error}.`, {
          ...problem.why,
          text: input.records[0],
        }),
      ]
    : [];
}
