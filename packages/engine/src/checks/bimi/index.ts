/**
 * BIMI: the `default._bimi` TXT record (draft-brand-indicators-for-message-identification) and
 * its syntax (bimiError).
 */
import type { DnsClient } from '../../dns/audit-dns.js';
import { failed } from '../../dns/audit-dns.js';
import { finding } from '../../findings.js';
import { type Why, why } from '../../params.js';
import type { Finding } from '../../types.js';
import { parseTagList, startsWithVersion } from '../taglist.js';

export interface BimiInput {
  domain: string;
  name: string;
  state: 'found' | 'missing' | 'failed';
  records: string[];
}

function httpsUrl(v: string): boolean {
  try {
    return new URL(v).protocol === 'https:';
  } catch {
    return false;
  }
}

/**
 * Why a BIMI record is invalid, or undefined (draft-brand-indicators-for-message-identification
 * 4.2): v=BIMI1 first; l= and a= empty or https: URLs; lps= a comma-separated list of local-part
 * prefixes of 1 to 63 letters, digits and "-" (or empty); avp= "brand" or "personal". Pure.
 */
export function bimiError(text: string): string | undefined {
  return bimiProblem(text)?.error;
}

/** Why a BIMI record is invalid, in English and as a reason code (params.ts), or undefined. */
export function bimiProblem(text: string): { error: string; why: Why } | undefined {
  const list = parseTagList(text, { lowerNames: true });
  if (list.error) return { error: list.error, why: list.why ?? why('tags.empty') };
  if (!startsWithVersion(list, 'BIMI1')) {
    return { error: '"v=BIMI1" must be the first tag', why: why('record.version_first', { version: 'v=BIMI1' }) };
  }
  const invalid = (tag: string, value: string, error: string) => ({
    error,
    why: why('record.tag_invalid', { tag, value }),
  });
  const l = list.get('l');
  if (l !== undefined && l !== '' && !l.split(',').every((u) => httpsUrl(u.trim())))
    return invalid('l', l, `l=${l} is not an https: URL`);
  const a = list.get('a');
  if (a !== undefined && a !== '' && !httpsUrl(a)) return invalid('a', a, `a=${a} is not an https: URL`);
  const lps = list.get('lps');
  if (lps !== undefined && lps !== '' && !lps.split(/[ \t]*,[ \t]*/).every((p) => /^[A-Za-z0-9-]{1,63}$/.test(p)))
    return invalid('lps', lps, `lps=${lps} is not a list of local-part prefixes (letters, digits and "-")`);
  const avp = list.get('avp');
  // bimi-logo-preference = "avp" *WSP "=" *WSP %s"personal" / %s"brand"
  if (avp !== undefined && avp !== 'brand' && avp !== 'personal') {
    return invalid('avp', avp, `avp=${avp} is not brand or personal`);
  }
  return undefined;
}

export async function fetchBimi(dns: DnsClient, domain: string): Promise<BimiInput> {
  const name = `default._bimi.${domain}`;
  const a = await dns.query(name, 'TXT');
  if (failed(a)) return { domain, name, state: 'failed', records: [] };
  const records = a.records.map((r) => r.text).filter((t) => /^v=BIMI1/i.test(t.trim()));
  return { domain, name, state: records.length ? 'found' : 'missing', records };
}

export function evaluateBimi(input: BimiInput): Finding[] {
  if (input.state === 'failed') return [];
  if (input.state === 'missing') {
    return [
      finding(
        'bimi.missing',
        input.name,
        `${input.domain} publishes no BIMI record: supporting mail clients show no brand logo.`,
      ),
    ];
  }
  const problem =
    input.records.length > 1
      ? { error: 'more than one BIMI record', why: why('record.multiple', { count: input.records.length }) }
      : bimiProblem(input.records[0] as string);
  return problem
    ? [
        finding(
          'bimi.syntax',
          input.name,
          `The BIMI record at ${input.name} does not parse: ${problem.error}.`,
          problem.why,
        ),
      ]
    : [];
}
