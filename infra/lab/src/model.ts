/**
 * Types of the lab declaration: zones, records, mail hosts and scenario domains.
 * Everything the lab serves is derived from values of these types (see scenarios.ts).
 */

/** What the lab generated and can hand to record builders (keys, certificate hashes). */
export interface Materials {
  /** TXT value `v=DKIM1; k=rsa; p=…` of the lab's RSA key of that many bits. */
  dkimKey(bits: 512 | 1024 | 2048): string;
  /** Hex SHA-256 of the SubjectPublicKeyInfo of the certificate served by that host name. */
  spkiSha256(hostName: string): string;
  /**
   * TXT value `v=DKIM1; k=rsa; p=…` of the lab's 2048-bit signing key `name`, whose private key
   * the lab writes to `<lab dir>/dkim/<name>.pem` so that tests can sign messages with it.
   */
  signingKey(name: string): string;
}

export type RecordType = 'A' | 'AAAA' | 'CNAME' | 'MX' | 'NS' | 'PTR' | 'SRV' | 'TLSA' | 'TXT';

/** One resource record. `name` is a fully qualified name without the trailing dot. */
export interface Rec {
  name: string;
  type: RecordType;
  /** Zone-file RDATA; a TXT value is given unquoted (it is split into strings when written). */
  data: string | ((m: Materials) => string);
  /** @default 60 */
  ttl?: number;
}

/** How a zone is served. */
export interface ZoneSpec {
  apex: string;
  /**
   * `signed`: signed, with a DS in its parent; `unsigned`: insecure delegation;
   * `bogus`: signed, then one RRset is altered so that validation fails;
   * `ds-mismatch`: signed, but the DS in its parent is that of another key (a key rollover, or a
   * move between DNS hosts, without updating the DS), so that nothing in it validates.
   * @default 'signed'
   */
  dnssec?: 'signed' | 'unsigned' | 'bogus' | 'ds-mismatch';
  /** For `bogus`: the owner and type whose record is altered after signing. */
  tamper?: { name: string; type: RecordType };
  /** `blackhole`: delegated to a nameserver that never answers. @default 'lab' */
  server?: 'lab' | 'blackhole';
}

/** Dovecot configurations for IMAP 143/993 and POP3 110/995. */
export type AccessProfile =
  /** STARTTLS/STLS offered, LOGINDISABLED and no USER before TLS, TLS 1.2+. */
  | 'good'
  /** No TLS at all: no STARTTLS, no STLS, nothing on 993/995. Plaintext login still refused. */
  | 'nostarttls'
  /** STARTTLS offered, but login in clear is allowed (no LOGINDISABLED, USER accepted). */
  | 'plaintext'
  /** Like good, but TLS 1.0 and 1.1 are accepted. */
  | 'legacytls';

/** SMTP behaviours on 25 (and 465/587 for `good`). */
export type SmtpProfile =
  /** 25 and 587 with STARTTLS, 465 with implicit TLS, TLS 1.2+. */
  | 'good'
  /** 25 only, no STARTTLS offered. */
  | 'nostarttls'
  /** 25 offers STARTTLS and 465 listens, but the server answers the TLS handshake with garbage. */
  | 'badtls'
  /** Like good, but every greeting comes 4 seconds late (within probe timeouts): slow audits for service tests. */
  | 'slow'
  /** 25 only: answers a connection with an endless line instead of a greeting. */
  | 'endless'
  /**
   * 25 only, and no connection to it is ever answered: SYNs go unanswered, as behind a firewall
   * that drops them, so a client's connect times out (nothing else on 465 and 587: refused).
   */
  | 'blackhole';

export type CertKind =
  /** Signed by the lab CA, valid for a year, names the host. */
  | 'good'
  /** Signed by the lab CA, expired 30 days ago. */
  | 'expired'
  /** Signed by the lab CA, expires in 7 days. */
  | 'expiring'
  /** Self-signed, otherwise valid. */
  | 'selfsigned'
  /** Signed by the lab CA for another name. */
  | 'wrongname';

/** A mail host: one loopback address with its services. */
export interface HostSpec {
  /** Primary name: its A record, PTR target and certificate subject. */
  name: string;
  /** More names on its certificate (e.g. a CNAME pointing at it). */
  aliases?: string[];
  /** Absent: nothing listens on 25, 465, 587. */
  smtp?: SmtpProfile;
  /** Absent: nothing listens on 110, 143, 993, 995. */
  access?: AccessProfile;
  /** A certificate is issued for hosts with a service (smtp, access, tlsa) or with `cert` set. @default 'good' */
  cert?: CertKind;
  /** `match`: PTR to `name`; `none`: no PTR; `{name}`: PTR to another name. @default 'match' */
  ptr?: 'match' | 'none' | { name: string };
  /** TLSA at `_25._tcp.<name>`: matching the served key, or a hash nothing matches. */
  tlsa?: 'match' | 'mismatch';
  /** Entry in the lab's IP blocklist: `listed` answers 127.0.0.2, `refused` 127.255.255.254. */
  dnsbl?: 'listed' | 'refused';
  /** Address; allocated in the lab net's .1.0/24 (127.20.1.0/24 by default) in declaration order when absent. */
  address?: string;
  /**
   * An IPv6 address too (LAB6_NET, addresses.ts), with an AAAA record, PTR and blocklist entries
   * like the IPv4 one's: `serve`: the host's services listen on it too; `closed`: nothing
   * listens on it (a host whose AAAA does not accept mail).
   */
  ipv6?: 'serve' | 'closed';
}

/** A finding code of ../shared/CONTRACT.md section 3. */
export type FindingCode =
  | 'domain.not_found'
  | 'dns.lookup_failed'
  | 'domain.dns_failed'
  | 'mx.null'
  | 'mx.missing'
  | 'mx.implicit'
  | 'mx.host_unresolvable'
  | 'mx.cname'
  | 'mx.ip_literal'
  | 'mx.private_address'
  | 'ptr.missing'
  | 'ptr.mismatch'
  | 'spf.missing'
  | 'spf.multiple'
  | 'spf.syntax'
  | 'spf.lookups.too_many'
  | 'spf.void_lookups.too_many'
  | 'spf.include.missing'
  | 'spf.include.loop'
  | 'spf.all.pass'
  | 'spf.all.neutral'
  | 'spf.ptr'
  | 'dmarc.missing'
  | 'dmarc.multiple'
  | 'dmarc.syntax'
  | 'dmarc.policy.none'
  | 'dmarc.pct.partial'
  | 'dmarc.rua.missing'
  | 'dmarc.rua.unauthorized'
  | 'dmarc.inherited'
  | 'dkim.missing'
  | 'dkim.key.insecure'
  | 'dkim.key.short'
  | 'dkim.revoked'
  | 'dkim.testing'
  | 'dkim.syntax'
  | 'mta_sts.missing'
  | 'mta_sts.policy.unreachable'
  | 'mta_sts.policy.invalid'
  | 'mta_sts.mx_mismatch'
  | 'tlsrpt.missing'
  | 'tlsrpt.syntax'
  | 'bimi.missing'
  | 'bimi.syntax'
  | 'dnssec.unsigned'
  | 'dnssec.bogus'
  | 'dane.tlsa.mismatch'
  | 'smtp.unreachable'
  | 'smtp.starttls.missing'
  | 'imap.starttls.missing'
  | 'imap.plaintext_auth'
  | 'pop3.stls.missing'
  | 'pop3.plaintext_auth'
  | 'tls.handshake.failed'
  | 'tls.version.legacy'
  | 'tls.cert.expired'
  | 'tls.cert.expiring'
  | 'tls.cert.untrusted'
  | 'tls.cert.name_mismatch'
  | 'blocklist.ip.listed'
  | 'blocklist.domain.listed'
  | 'blocklist.query.refused'
  // Added to the contract's codes (docs/codes.md).
  | 'transport.unresponsive'
  | 'transport.protocol_error'
  | 'spf.mx.too_many'
  | 'dkim.key.not_for_email'
  | 'mta_sts.record.invalid'
  | 'smtp.ipv6.unreachable'
  | 'smtp.not_checked';

/** A domain to audit, with what the audit must report for it. */
export interface Scenario {
  /** The domain audited (ASCII, no trailing dot). */
  domain: string;
  /** One line saying what is special about it. */
  about: string;
  /**
   * Exactly the codes a full audit (probes on) reports; with `--no-probes`, the same less the
   * codes in PROBE_CODES.
   */
  expect: FindingCode[];
  /** Codes that must not appear, named to document a trap (already implied by `expect`). */
  absent?: FindingCode[];
  /** Audit options the scenario needs. @default { allowPrivateTargets: true } */
  options?: { allowPrivateTargets?: boolean; dkimSelectors?: string[] };
}

/** Codes that only a probe (a TCP connection or an HTTPS fetch) can produce. */
export const PROBE_CODES: ReadonlySet<FindingCode> = new Set<FindingCode>([
  'mta_sts.policy.unreachable',
  'mta_sts.policy.invalid',
  'mta_sts.mx_mismatch',
  'dane.tlsa.mismatch',
  'smtp.unreachable',
  'smtp.starttls.missing',
  'imap.starttls.missing',
  'imap.plaintext_auth',
  'pop3.stls.missing',
  'pop3.plaintext_auth',
  'tls.handshake.failed',
  'tls.version.legacy',
  'tls.cert.expired',
  'tls.cert.expiring',
  'tls.cert.untrusted',
  'tls.cert.name_mismatch',
  'transport.unresponsive',
  'transport.protocol_error',
  'smtp.ipv6.unreachable',
  'smtp.not_checked',
]);

/** An MTA-STS policy served over HTTPS at `mta-sts.<domain>`. */
export interface PolicySpec {
  domain: string;
  /** `lab`: the lab's HTTPS server; `closed`: an address with nothing on 443. */
  server: 'lab' | 'closed';
  /** The body served at /.well-known/mta-sts.txt. */
  body: string;
}

/** The whole lab: what the generator turns into zones, keys, certificates and server configs. */
export interface LabModel {
  zones: ZoneSpec[];
  records: Rec[];
  hosts: (HostSpec & { address: string; address6?: string })[];
  policies: PolicySpec[];
  scenarios: Scenario[];
  /** Entries of the lab's domain blocklist. */
  listedDomains: string[];
}
