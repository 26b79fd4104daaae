/**
 * What one received message proves about its sender's mail: SPF for the connecting address and
 * MAIL FROM (RFC 7208), every DKIM signature (RFC 6376), DMARC with the alignment of both to the
 * From domain (RFC 7489 and its successor), ARC (RFC 8617) and BIMI — through mailauth's
 * `authenticate()` with the engine's resolver injected — and what the engine adds: the TLS
 * version the sender used, forward-confirmed reverse DNS ("iprev", RFC 8601 2.7.3) and the HELO
 * name of the sending address, and the sending address on the IP blocklists.
 *
 * Split like the checks: `fetchMessage` does the lookups (through the context's DNS only), and
 * `evaluateMessage` turns what was seen into findings without any I/O.
 */
import { isIP } from 'node:net';
import { authenticate } from 'mailauth';
import { lookupFailures } from '../audit-run.js';
import { DEFAULT_IP_BLOCKLISTS, fetchBlocklists } from '../checks/blocklists/index.js';
import { confirmReverse } from '../checks/ptr/index.js';
import { AuditDns, type DnsClient, failed } from '../dns/audit-dns.js';
import { InvalidDomainError, normalizeDomain } from '../domain-name.js';
import { dedupe, finding } from '../findings.js';
import { embeddedIpv4, reservedRange, sameAddress } from '../net/address.js';
import { type Finding, SEVERITY_RANK } from '../types.js';
import { mailauthResolver } from './resolver.js';

export { addressOfReverseName, type MailauthResolver, mailauthResolver } from './resolver.js';

/** Result keywords of RFC 8601 section 2.7 (and 2.7.3 for iprev). */
export type AuthResult = 'pass' | 'fail' | 'softfail' | 'neutral' | 'none' | 'temperror' | 'permerror' | 'policy';

export interface MessageInput {
  /** The message as received: header and body. Read, never kept. */
  message: Buffer;
  /** Address of the SMTP client that handed the message over. */
  ip: string;
  /** Name the client gave in HELO/EHLO. */
  helo: string;
  /** MAIL FROM address; empty for the null reverse-path (then SPF checks the HELO identity). */
  mailFrom: string;
  /** TLS of the SMTP session: `null` for none; absent when not known (a saved message). */
  tls?: { version: string; cipher?: string } | null;
  /** The domain the message was sent to test, for `message.from.other_domain`. */
  domain?: string;
}

export interface MessageOptions {
  /** Look up the PTR and blocklist entries of loopback/private/reserved senders. @default false */
  allowPrivateTargets?: boolean;
  /** DNSBL zones for the sending address. @default DEFAULT_IP_BLOCKLISTS */
  ipBlocklists?: string[];
  /** The authserv-id of the Authentication-Results produced (RFC 8601 2.5). @default 'mailaudit.invalid' */
  authServId?: string;
  /** Deadline of the whole analysis; lookups after it count as timed out. @default 30000 */
  timeoutMs?: number;
}

export interface MessageDeps {
  dns: DnsClient;
  /** The clock; the only source of "now". */
  now: () => Date;
}

export interface DkimSignature {
  /** d= */
  domain: string;
  /** s= */
  selector: string;
  /** a=, e.g. rsa-sha256 */
  algorithm: string | null;
  /** c=, e.g. relaxed/relaxed */
  canonicalization: string | null;
  result: AuthResult;
  comment: string | null;
  /** The signing domain aligns with the From domain (DMARC's verdict when it found a record). */
  aligned: boolean;
  /** Size of the RSA key (256 for Ed25519), when the key was fetched. */
  keyBits: number | null;
  /** Whether the body hash matched the body; null when the signature was not checked that far. */
  bodyHash: 'pass' | 'fail' | null;
  /** The key record has t=y. */
  testing: boolean;
}

export interface MessageEvidence {
  envelope: { ip: string; helo: string; mailFrom: string; tls?: { version: string; cipher?: string } | null };
  /** Only the header fields the results need: From (addresses and field count), Date, Message-ID. */
  headers: { from: string[]; fromFields: number; date: string | null; messageId: string | null };
  /** Domain of the single From address; null when there is none or more than one. */
  fromDomain: string | null;
  spf: {
    result: AuthResult;
    identity: 'mailfrom' | 'helo';
    domain: string;
    record: string | null;
    comment: string | null;
  };
  dkim: DkimSignature[];
  dmarc: {
    result: AuthResult;
    /** The policy applied: p, or sp/np for an inherited record, one level lower with t=y. */
    policy: string | null;
    policyDomain: string | null;
    record: string | null;
    alignment: { spf: string | null; dkim: string | null };
    comment: string | null;
  };
  arc: { result: AuthResult; instance: number | null; comment: string | null };
  bimi: { result: AuthResult; location: string | null; comment: string | null };
  /** RFC 8601 2.7.3; `none` when not looked up (a private address without allowPrivateTargets). */
  iprev: { result: AuthResult; names: string[]; comment: string | null };
  /** Whether the HELO name resolves to the sending address (an address literal must be it). */
  helo: { result: AuthResult; addresses: string[]; comment: string | null };
  blocklists: { zone: string; state: 'listed' | 'refused' | 'clear' | 'failed'; answer: string | null }[];
  /** The Authentication-Results header field a receiver would add, as mailauth writes it. */
  authenticationResults: string;
}

export interface MessageReport extends MessageEvidence {
  schema: 'mailaudit.message/1';
  receivedAt: string;
  durationMs: number;
  /** `partial` when some lookups failed: the results that depend on them say `temperror`. */
  outcome: 'complete' | 'partial';
  findings: Finding[];
}

const RESULTS: ReadonlySet<string> = new Set([
  'pass',
  'fail',
  'softfail',
  'neutral',
  'none',
  'temperror',
  'permerror',
  'policy',
]);

/** mailauth's keyword as an RFC 8601 one ("temperr" is its old spelling of temperror). */
function asResult(value: unknown): AuthResult {
  const v = String(value ?? 'none').toLowerCase();
  if (v === 'temperr') return 'temperror';
  return (RESULTS.has(v) ? v : 'none') as AuthResult;
}

const str = (v: unknown): string | null => (typeof v === 'string' && v !== '' ? v : null);

/** A header field's value, unfolded and trimmed, at most 200 characters. */
function headerValue(parsed: { key: string; line: Buffer }[] | undefined, key: string): string | null {
  const row = parsed?.find((r) => r.key === key);
  if (!row) return null;
  const line = row.line.toString('utf8');
  const value = line
    .slice(line.indexOf(':') + 1)
    .replace(/\r?\n[ \t]+/g, ' ')
    .trim();
  return value.slice(0, 200) || null;
}

async function checkHelo(
  dns: DnsClient,
  helo: string,
  ip: string,
): Promise<{ result: AuthResult; addresses: string[]; comment: string | null }> {
  const literal = helo.replace(/^\[(?:ipv6:)?/i, '').replace(/\]$/, '');
  if (isIP(literal) !== 0) {
    return sameAddress(literal, ip)
      ? { result: 'pass', addresses: [literal], comment: null }
      : { result: 'fail', addresses: [literal], comment: 'an address literal that is not the sending address' };
  }
  let name: string;
  try {
    name = normalizeDomain(helo);
  } catch (err) {
    if (!(err instanceof InvalidDomainError)) throw err;
    return { result: 'fail', addresses: [], comment: `not a host name: ${err.reason}` };
  }
  const a = await dns.query(name, isIP(ip) === 6 ? 'AAAA' : 'A');
  if (failed(a)) return { result: 'temperror', addresses: [], comment: a.detail ?? a.status };
  if (a.records.some((r) => sameAddress(r, ip))) return { result: 'pass', addresses: a.records, comment: null };
  const comment =
    a.status === 'nxdomain'
      ? 'the name does not exist'
      : a.records.length
        ? 'the name resolves to other addresses'
        : 'the name has no address';
  return { result: 'fail', addresses: a.records, comment };
}

/** RFC 8601 2.7.3: pass when a PTR name resolves back, permerror without PTR, fail otherwise. */
async function checkIprev(dns: DnsClient, ip: string): Promise<MessageEvidence['iprev']> {
  const r = await confirmReverse(dns, ip);
  switch (r.state) {
    case 'confirmed':
      return { result: 'pass', names: r.names, comment: null };
    case 'missing':
      return { result: 'permerror', names: [], comment: 'no PTR record' };
    case 'mismatch':
      return { result: 'fail', names: r.names, comment: 'no PTR name resolves back to the address' };
    default:
      return { result: 'temperror', names: r.names, comment: 'the lookup failed' };
  }
}

/** The lookups: mailauth's checks, iprev, HELO and blocklists, all through `dns`. */
export async function fetchMessage(
  input: MessageInput,
  options: MessageOptions,
  dns: AuditDns,
): Promise<MessageEvidence> {
  const allowPrivateTargets = options.allowPrivateTargets ?? false;
  if (isIP(input.ip) === 0) throw new TypeError(`${JSON.stringify(input.ip)} is not an IP address`);
  // A dual-stack socket reports an IPv4 client as ::ffff:a.b.c.d: its PTR lives in in-addr.arpa.
  const ip = embeddedIpv4(input.ip) ?? input.ip;
  const privateRange = allowPrivateTargets ? undefined : reservedRange(ip);
  const ipLists = options.ipBlocklists ?? DEFAULT_IP_BLOCKLISTS;

  const [auth, iprev, helo, lists] = await Promise.all([
    authenticate(input.message, {
      ip,
      helo: input.helo,
      sender: input.mailFrom,
      mta: options.authServId ?? 'mailaudit.invalid',
      resolver: mailauthResolver(dns, { allowPrivateTargets }),
    }),
    privateRange
      ? { result: 'none' as const, names: [], comment: `not looked up: a ${privateRange} address` }
      : checkIprev(dns.for('mx'), ip),
    checkHelo(dns.for('transport'), input.helo, ip),
    privateRange ? Promise.resolve([]) : fetchBlocklists(dns.for('blocklist'), '', [ip], ipLists, []),
  ]);

  const from = auth.dkim.headerFrom ?? [];
  const fromFields = auth.dkim.fromFields ?? from.length;
  // The author domain DMARC evaluated; without DMARC, that of the From addresses when they share one.
  const domains = [...new Set(from.map((a) => (a.split('@').pop() ?? '').toLowerCase().replace(/\.$/, '')))];
  const fromDomain =
    str(auth.dmarc ? auth.dmarc.status?.header?.from : undefined)?.toLowerCase() ??
    (fromFields === 1 && domains.length === 1 && domains[0] ? domains[0] : null);
  const parsed = (auth.dkim as { headers?: { parsed: { key: string; line: Buffer }[] } }).headers?.parsed;

  // mailauth answers an unsigned message (or one whose only DKIM-Signature has no usable tags, which
  // verifiers ignore) with one `none` entry that is no signature.
  const signatures = (auth.dkim.results ?? []).filter((r) => r.signingDomain || r.status?.result !== 'none');
  const spf = auth.spf || undefined;
  const dmarc = auth.dmarc || undefined;
  const skip = (auth as { dmarcSkipReason?: string }).dmarcSkipReason;

  const evidence: MessageEvidence = {
    envelope: { ip, helo: input.helo, mailFrom: input.mailFrom },
    headers: {
      from: from.map((a) => a.slice(0, 254)).slice(0, 10),
      fromFields,
      date: headerValue(parsed, 'date'),
      messageId: headerValue(parsed, 'message-id'),
    },
    fromDomain,
    spf: {
      result: asResult(spf?.status?.result),
      identity: input.mailFrom ? 'mailfrom' : 'helo',
      domain: str(spf?.domain) ?? '',
      record: str(spf?.rr),
      comment: str(spf?.status?.comment),
    },
    dkim: signatures.map((r) => ({
      domain: String(r.signingDomain ?? '').toLowerCase(),
      selector: String(r.selector ?? '').toLowerCase(),
      algorithm: str(r.algo),
      canonicalization: str(r.format),
      result: asResult(r.status.result),
      // A policy result has no comment of its own, only its rule (weak-key: shorter than 1024 bits).
      comment: str(r.status.comment) ?? str(r.status.policy?.['dkim-rules']),
      aligned: Boolean(r.status.aligned),
      keyBits:
        typeof r.modulusLength === 'number'
          ? r.modulusLength
          : r.algo?.startsWith('ed25519') && r.publicKey
            ? 256
            : null,
      bodyHash: r.bodyHash && r.bodyHashExpecting ? (r.bodyHash === r.bodyHashExpecting ? 'pass' : 'fail') : null,
      testing: r.status.testing === true,
    })),
    dmarc: dmarc
      ? {
          result: asResult(dmarc.status?.result),
          policy: str(dmarc.policy),
          policyDomain: str(dmarc.policyDomain),
          record: str(dmarc.rr),
          alignment: { spf: str(dmarc.alignment?.spf?.result), dkim: str(dmarc.alignment?.dkim?.result) },
          comment: str(dmarc.status?.comment) ?? str(dmarc.error),
        }
      : {
          // No single author domain (RFC 5322 3.6: exactly one From): DMARC cannot be evaluated.
          result: skip ? 'permerror' : 'none',
          policy: null,
          policyDomain: null,
          record: null,
          alignment: { spf: null, dkim: null },
          comment: str(skip),
        },
    arc: auth.arc
      ? {
          result: asResult(auth.arc.status?.result),
          instance: typeof auth.arc.i === 'number' && auth.arc.i > 0 ? auth.arc.i : null,
          comment: str(auth.arc.status?.comment),
        }
      : { result: 'none', instance: null, comment: null },
    bimi: auth.bimi
      ? {
          result: asResult(auth.bimi.status?.result),
          location: str((auth.bimi as { location?: string }).location),
          comment: str(auth.bimi.status?.comment),
        }
      : { result: 'none', location: null, comment: null },
    iprev,
    helo,
    blocklists: lists.map((b) => ({
      zone: b.zone,
      state: b.state,
      answer: b.answers[0] ?? null,
    })),
    authenticationResults: auth.headers
      .split(/\r?\n(?=\S)/)
      .filter((h) => /^Authentication-Results:/i.test(h))
      .join('\r\n')
      .replace(/^Authentication-Results:\s*/i, '')
      .trim(),
  };
  if (input.tls !== undefined) evidence.envelope.tls = input.tls;
  return evidence;
}

const LEGACY_TLS: ReadonlySet<string> = new Set(['SSLv3', 'TLSv1', 'TLSv1.1']);

/** The findings of one message. Pure. `domain`: the domain the message was sent to test. */
export function evaluateMessage(e: MessageEvidence, ctx: { domain?: string } = {}): Finding[] {
  const out: Finding[] = [];
  const { spf, dmarc } = e;

  // SPF (RFC 7208 2.6). temperror is a lookup that failed: dns.lookup_failed says which.
  const spfParams = { domain: spf.domain, identity: spf.identity, ip: e.envelope.ip, comment: spf.comment };
  const spfSubject = spf.domain || e.envelope.ip;
  if (spf.result === 'fail') {
    out.push(
      finding(
        'message.spf.fail',
        spfSubject,
        `SPF fails: ${spf.domain} does not allow ${e.envelope.ip} to send its mail; receivers may reject it.`,
        spfParams,
      ),
    );
  } else if (spf.result === 'softfail') {
    out.push(
      finding(
        'message.spf.softfail',
        spfSubject,
        `SPF soft-fails: ${spf.domain} says ${e.envelope.ip} is probably not one of its senders (~all).`,
        spfParams,
      ),
    );
  } else if (spf.result === 'neutral') {
    out.push(
      finding(
        'message.spf.neutral',
        spfSubject,
        `SPF is neutral: ${spf.domain} says nothing about ${e.envelope.ip}.`,
        spfParams,
      ),
    );
  } else if (spf.result === 'none') {
    out.push(
      finding(
        'message.spf.none',
        spfSubject,
        `${spf.domain || 'The sender'} publishes no SPF record: nothing says who may send its mail.`,
        spfParams,
      ),
    );
  } else if (spf.result === 'permerror') {
    out.push(
      finding(
        'message.spf.permerror',
        spfSubject,
        `The SPF record of ${spf.domain} cannot be evaluated (permerror${spf.comment ? `: ${spf.comment}` : ''}); receivers treat it as broken.`,
        spfParams,
      ),
    );
  }

  // DKIM (RFC 6376, RFC 8301), one finding per signature and reason.
  if (e.dkim.length === 0) {
    out.push(
      finding(
        'message.dkim.missing',
        e.fromDomain || e.envelope.mailFrom || e.envelope.ip,
        'The message carries no DKIM signature: only SPF can authenticate it, and forwarding breaks SPF.',
        { fromDomain: e.fromDomain },
      ),
    );
  }
  for (const s of e.dkim) {
    const subject = s.domain ? `${s.selector}._domainkey.${s.domain}` : 'DKIM-Signature';
    const params = {
      domain: s.domain,
      selector: s.selector,
      algorithm: s.algorithm,
      result: s.result,
      comment: s.comment,
    };
    if (s.bodyHash === 'fail') {
      out.push(
        finding(
          'message.dkim.body_hash',
          subject,
          `The DKIM signature of ${s.domain} (selector ${s.selector}) does not match the body: the body changed after signing.`,
          params,
        ),
      );
    } else if (s.result === 'neutral' && s.comment === 'no key') {
      out.push(
        finding(
          'message.dkim.key_missing',
          subject,
          `The message is signed by ${s.domain} with selector ${s.selector}, but ${subject} publishes no key.`,
          params,
        ),
      );
    } else if (s.result === 'policy' && s.comment === 'weak-key') {
      out.push(
        finding(
          'message.dkim.key_weak',
          subject,
          `The DKIM key at ${subject} is shorter than 1024 bits: receivers ignore the signature (RFC 8301).`,
          params,
        ),
      );
    } else if (s.result !== 'pass' && s.result !== 'temperror') {
      out.push(
        finding(
          'message.dkim.fail',
          subject,
          `The DKIM signature of ${s.domain} (selector ${s.selector}) does not verify (${s.result}${s.comment ? `: ${s.comment}` : ''}).`,
          params,
        ),
      );
    }
    if (s.result === 'pass' && s.algorithm === 'rsa-sha1') {
      out.push(
        finding(
          'message.dkim.sha1',
          subject,
          `The DKIM signature of ${s.domain} uses rsa-sha1, which RFC 8301 forbids: sign with rsa-sha256.`,
          params,
        ),
      );
    }
  }
  const passing = e.dkim.filter((s) => s.result === 'pass');
  if (e.fromDomain && passing.length > 0 && !passing.some((s) => s.aligned)) {
    out.push(
      finding(
        'message.dkim.unaligned',
        e.fromDomain,
        `The message is DKIM-signed by ${[...new Set(passing.map((s) => s.domain))].join(', ')}, but no passing signature is of ${e.fromDomain}'s domain: DKIM does not count for its DMARC.`,
        { fromDomain: e.fromDomain, domains: [...new Set(passing.map((s) => s.domain))] },
      ),
    );
  }

  // The author (RFC 5322 3.6.2) and DMARC.
  if (e.fromDomain === null) {
    out.push(
      finding(
        'message.from.invalid',
        'From',
        `The message has ${e.headers.fromFields} From field(s) with ${e.headers.from.length} address(es) and no single author domain, so DMARC cannot be evaluated.`,
        { fromFields: e.headers.fromFields, addresses: e.headers.from },
      ),
    );
  }
  if (e.fromDomain && ctx.domain && e.fromDomain !== ctx.domain && !e.fromDomain.endsWith(`.${ctx.domain}`)) {
    out.push(
      finding(
        'message.from.other_domain',
        e.fromDomain,
        `The message is from ${e.fromDomain}, not from ${ctx.domain}: its results describe ${e.fromDomain}'s mail.`,
        { fromDomain: e.fromDomain, domain: ctx.domain },
      ),
    );
  }
  if (e.fromDomain && dmarc.result === 'fail') {
    const enforced = dmarc.policy === 'reject' || dmarc.policy === 'quarantine';
    out.push(
      finding(
        'message.dmarc.fail',
        e.fromDomain,
        `DMARC fails for ${e.fromDomain}: neither SPF nor DKIM passes aligned with it${enforced ? `, and its policy (${dmarc.policy}) tells receivers to ${dmarc.policy} such mail` : ''}.`,
        { policy: dmarc.policy, policyDomain: dmarc.policyDomain, spfAligned: false, dkimAligned: false },
        { severity: enforced ? 'critical' : 'warning' },
      ),
    );
  } else if (e.fromDomain && dmarc.result === 'none') {
    out.push(
      finding(
        'message.dmarc.none',
        e.fromDomain,
        `${e.fromDomain} has no DMARC record (nor has its organizational domain): receivers apply no policy to its mail.`,
        { fromDomain: e.fromDomain },
      ),
    );
  }
  if (e.arc.result === 'fail') {
    out.push(
      finding(
        'message.arc.fail',
        'ARC',
        `The message's ARC chain (instance ${e.arc.instance ?? '?'}) does not validate${e.arc.comment ? `: ${e.arc.comment}` : ''}.`,
        { instance: e.arc.instance, comment: e.arc.comment },
      ),
    );
  }

  // The session: TLS, reverse DNS and HELO of the sending address, blocklists.
  const tls = e.envelope.tls;
  if (tls === null) {
    out.push(
      finding(
        'message.tls.none',
        e.envelope.ip,
        `${e.envelope.ip} sent the message without TLS: it crossed the network readable by anyone on the path.`,
        { ip: e.envelope.ip },
      ),
    );
  } else if (tls && LEGACY_TLS.has(tls.version)) {
    out.push(
      finding(
        'message.tls.legacy',
        e.envelope.ip,
        `${e.envelope.ip} sent the message over ${tls.version}, which is deprecated (RFC 8996).`,
        { ip: e.envelope.ip, version: tls.version, cipher: tls.cipher ?? null },
      ),
    );
  }
  if (e.iprev.result === 'permerror') {
    out.push(
      finding(
        'message.iprev.missing',
        e.envelope.ip,
        `The sending address ${e.envelope.ip} has no PTR record; many receivers distrust or refuse such senders.`,
        { ip: e.envelope.ip },
      ),
    );
  } else if (e.iprev.result === 'fail') {
    out.push(
      finding(
        'message.iprev.mismatch',
        e.envelope.ip,
        `The PTR of ${e.envelope.ip} names ${e.iprev.names.join(', ')}, which does not resolve back to ${e.envelope.ip}.`,
        { ip: e.envelope.ip, ptr: e.iprev.names },
      ),
    );
  }
  if (e.helo.result === 'fail') {
    out.push(
      finding(
        'message.helo.mismatch',
        e.envelope.helo,
        `The sender introduced itself as ${JSON.stringify(e.envelope.helo)}, which does not lead to ${e.envelope.ip} (${e.helo.comment}).`,
        { helo: e.envelope.helo, ip: e.envelope.ip, addresses: e.helo.addresses, comment: e.helo.comment },
      ),
    );
  }
  for (const b of e.blocklists) {
    if (b.state === 'listed') {
      out.push(
        finding(
          'message.blocklist.listed',
          `${b.zone}:${e.envelope.ip}`,
          `The sending address ${e.envelope.ip} is listed on ${b.zone} (${b.answer}).`,
          { zone: b.zone, address: e.envelope.ip, answer: b.answer },
        ),
      );
    } else if (b.state === 'refused') {
      out.push(
        finding(
          'message.blocklist.refused',
          `${b.zone}:${e.envelope.ip}`,
          `${b.zone} answered ${b.answer} for ${e.envelope.ip}: an error code, so it is not known whether it is listed.`,
          { zone: b.zone, address: e.envelope.ip, answer: b.answer },
        ),
      );
    }
  }
  return out;
}

/** Analyses one message: the lookups, then the findings, as a `mailaudit.message/1` report. */
export async function analyzeMessage(
  input: MessageInput,
  options: MessageOptions,
  deps: MessageDeps,
): Promise<MessageReport> {
  const started = deps.now();
  const timeoutMs = options.timeoutMs ?? 30_000;
  const dns = new AuditDns(deps.dns, { at: started.getTime() + timeoutMs, now: () => deps.now().getTime() });
  let evidence: Awaited<ReturnType<typeof fetchMessage>>;
  try {
    evidence = await fetchMessage(input, options, dns);
  } finally {
    // The deadline's timer goes as soon as the lookups are done.
    dns.close();
  }
  const ctx = input.domain ? { domain: input.domain } : {};
  const findings = dedupe([...evaluateMessage(evidence, ctx), ...lookupFailures(dns.failures())]).sort(
    (a, b) => SEVERITY_RANK[a.severity] - SEVERITY_RANK[b.severity] || a.code.localeCompare(b.code),
  );
  return {
    schema: 'mailaudit.message/1',
    receivedAt: started.toISOString(),
    durationMs: Math.max(0, deps.now().getTime() - started.getTime()),
    outcome: dns.failures().length > 0 ? 'partial' : 'complete',
    ...evidence,
    findings,
  };
}

/** DKIM selectors of `domain` that signed this message and passed: keys later audits should check. */
export function selectorsFound(report: Pick<MessageEvidence, 'dkim'>, domain: string): string[] {
  const d = domain.toLowerCase();
  return [...new Set(report.dkim.filter((s) => s.result === 'pass' && s.domain === d).map((s) => s.selector))];
}
