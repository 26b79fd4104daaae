/**
 * Every finding code with its severity and category: ../shared/CONTRACT.md section 3, in one
 * table. Checks name a code and its parameters; the severity and category come from here.
 */
import type { CategoryId, Severity } from './types.js';

export interface CodeInfo {
  severity: Severity;
  category: CategoryId;
}

const c = (severity: Severity, category: CategoryId): CodeInfo => ({ severity, category });

export const CODES = {
  'domain.not_found': c('critical', 'domain'),
  // Added (docs/codes.md): the domain's own lookup failed while the resolvers answer the control
  // query (dns/control.ts): its nameservers fail (lame delegation, all down), so nobody can find
  // where to deliver its mail.
  'domain.dns_failed': c('critical', 'domain'),
  // Added (docs/codes.md): the auditing side failed (the resolvers do not answer the control
  // query): no verdict; the report's only finding, with outcome `inconclusive`.
  'audit.inconclusive': c('warning', 'domain'),
  // Its category is that of the check whose lookup failed; 'domain' is only the default.
  'dns.lookup_failed': c('warning', 'domain'),
  'mx.null': c('info', 'mx'),
  'mx.missing': c('critical', 'mx'),
  'mx.implicit': c('warning', 'mx'),
  'mx.host_unresolvable': c('critical', 'mx'),
  'mx.cname': c('warning', 'mx'),
  'mx.ip_literal': c('warning', 'mx'),
  'mx.private_address': c('critical', 'mx'),
  'ptr.missing': c('warning', 'mx'),
  'ptr.mismatch': c('warning', 'mx'),
  'spf.missing': c('critical', 'spf'),
  'spf.multiple': c('critical', 'spf'),
  'spf.syntax': c('critical', 'spf'),
  'spf.lookups.too_many': c('critical', 'spf'),
  'spf.void_lookups.too_many': c('critical', 'spf'),
  'spf.include.missing': c('critical', 'spf'),
  'spf.include.loop': c('critical', 'spf'),
  'spf.all.pass': c('critical', 'spf'),
  'spf.all.neutral': c('warning', 'spf'),
  'spf.ptr': c('notice', 'spf'),
  // Added (docs/codes.md): an `mx` term whose target has more than 10 MX records (RFC 7208 4.6.4).
  'spf.mx.too_many': c('critical', 'spf'),
  'dmarc.missing': c('critical', 'dmarc'),
  'dmarc.multiple': c('critical', 'dmarc'),
  'dmarc.syntax': c('critical', 'dmarc'),
  'dmarc.policy.none': c('warning', 'dmarc'),
  'dmarc.pct.partial': c('notice', 'dmarc'),
  'dmarc.rua.missing': c('notice', 'dmarc'),
  'dmarc.rua.unauthorized': c('warning', 'dmarc'),
  'dmarc.inherited': c('info', 'dmarc'),
  'dkim.missing': c('warning', 'dkim'),
  'dkim.key.insecure': c('critical', 'dkim'),
  'dkim.key.short': c('notice', 'dkim'),
  'dkim.revoked': c('info', 'dkim'),
  'dkim.testing': c('warning', 'dkim'),
  'dkim.syntax': c('critical', 'dkim'),
  // Added (docs/codes.md): a key whose s= service types exclude email (RFC 6376 3.6.1).
  'dkim.key.not_for_email': c('critical', 'dkim'),
  'mta_sts.missing': c('notice', 'mta-sts'),
  // Added (docs/codes.md): the _mta-sts TXT record does not parse, or more than one starts with v=STSv1.
  'mta_sts.record.invalid': c('warning', 'mta-sts'),
  'mta_sts.policy.unreachable': c('warning', 'mta-sts'),
  'mta_sts.policy.invalid': c('warning', 'mta-sts'),
  // Critical for an enforce policy, a warning in testing mode (set by the check).
  'mta_sts.mx_mismatch': c('critical', 'mta-sts'),
  'tlsrpt.missing': c('notice', 'tls-rpt'),
  'tlsrpt.syntax': c('warning', 'tls-rpt'),
  'bimi.missing': c('info', 'bimi'),
  'bimi.syntax': c('notice', 'bimi'),
  'dnssec.unsigned': c('notice', 'dnssec'),
  'dnssec.bogus': c('critical', 'dnssec'),
  'dane.tlsa.mismatch': c('critical', 'transport'),
  'smtp.unreachable': c('critical', 'transport'),
  // Added (docs/codes.md): no MX address accepts on port 25 and at least one showed nothing about
  // the server (a timeout while this machine's outbound port 25 is unproven, our deadline, a local
  // error): could not be checked, never bad; the transport category is `error`.
  'smtp.not_checked': c('info', 'transport'),
  'smtp.starttls.missing': c('warning', 'transport'),
  // Added (docs/codes.md): an MX host's IPv6 addresses refuse port 25 while its IPv4 ones accept.
  'smtp.ipv6.unreachable': c('warning', 'transport'),
  'imap.starttls.missing': c('critical', 'transport'),
  'imap.plaintext_auth': c('critical', 'transport'),
  'pop3.stls.missing': c('critical', 'transport'),
  'pop3.plaintext_auth': c('critical', 'transport'),
  'tls.handshake.failed': c('warning', 'transport'),
  'tls.version.legacy': c('warning', 'transport'),
  'tls.cert.expired': c('critical', 'transport'),
  'tls.cert.expiring': c('warning', 'transport'),
  'tls.cert.untrusted': c('warning', 'transport'),
  'tls.cert.name_mismatch': c('warning', 'transport'),
  // Added to CONTRACT.md's codes (docs/codes.md): a mail port that accepted the connection and
  // then stalled, or broke its protocol (overlong lines, garbage, closing mid-dialog).
  'transport.unresponsive': c('warning', 'transport'),
  'transport.protocol_error': c('warning', 'transport'),
  'blocklist.ip.listed': c('critical', 'blocklist'),
  'blocklist.domain.listed': c('critical', 'blocklist'),
  'blocklist.query.refused': c('info', 'blocklist'),
  // Test messages (docs/codes.md, "Test messages"): what one received message shows. Each sits
  // in the category of the standard it is about; a message test has no score.
  'message.spf.fail': c('critical', 'spf'),
  'message.spf.softfail': c('warning', 'spf'),
  'message.spf.neutral': c('notice', 'spf'),
  'message.spf.none': c('warning', 'spf'),
  'message.spf.permerror': c('critical', 'spf'),
  'message.dkim.missing': c('warning', 'dkim'),
  'message.dkim.body_hash': c('critical', 'dkim'),
  'message.dkim.key_missing': c('critical', 'dkim'),
  'message.dkim.key_weak': c('critical', 'dkim'),
  'message.dkim.fail': c('critical', 'dkim'),
  'message.dkim.sha1': c('warning', 'dkim'),
  'message.dkim.unaligned': c('warning', 'dkim'),
  // Critical when the policy applied is quarantine or reject, a warning under p=none (set by the check).
  'message.dmarc.fail': c('critical', 'dmarc'),
  'message.dmarc.none': c('warning', 'dmarc'),
  'message.from.invalid': c('warning', 'dmarc'),
  'message.from.other_domain': c('notice', 'dmarc'),
  'message.arc.fail': c('warning', 'dmarc'),
  'message.tls.none': c('warning', 'transport'),
  'message.tls.legacy': c('warning', 'transport'),
  'message.iprev.missing': c('warning', 'mx'),
  'message.iprev.mismatch': c('warning', 'mx'),
  'message.helo.mismatch': c('notice', 'transport'),
  'message.blocklist.listed': c('critical', 'blocklist'),
  'message.blocklist.refused': c('info', 'blocklist'),
} as const satisfies Record<string, CodeInfo>;

export type Code = keyof typeof CODES;
