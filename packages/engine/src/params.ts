/**
 * What each finding code's `params` may hold, and the reasons a code may give: one place for the
 * engine (the `finding()` builder takes only these names), the message catalogue
 * (`@mailaudit/catalog` words every code and reason with these params and no others) and its
 * completeness test. Params are structured values only (names, counts, addresses, codes), never
 * English text: where a check has something to say about why, it names a reason from `REASONS`,
 * whose own params come along in the finding's params.
 */
import type { Code } from './codes.js';

/** Every reason code with the params its wording may use (the finding carries them). */
export const REASONS = {
  // Tag=value lists of DKIM, DMARC, TLS-RPT, BIMI and MTA-STS records (checks/taglist.ts).
  'tags.empty': [],
  'tags.not_tag_value': ['tag'],
  'tags.bad_name': ['tag'],
  'tags.repeated': ['tag'],
  // SPF records (RFC 7208 12, checks/spf/parse.ts).
  'spf.not_spf': [],
  'spf.non_ascii': [],
  'spf.unknown_mechanism': ['mechanism', 'term'],
  'spf.invalid_term': ['term'],
  'spf.all_argument': ['term'],
  'spf.domain_missing': ['term'],
  'spf.invalid_domain_spec': ['term'],
  'spf.invalid_macro': ['term'],
  'spf.invalid_network': ['term'],
  'spf.invalid_cidr': ['term'],
  'spf.duplicate_modifier': ['modifier'],
  // Any tag=value record (DMARC, TLS-RPT, BIMI, MTA-STS): the v= tag, a missing or bad tag, a URI.
  'record.leading_space': [],
  'record.version_first': ['version'],
  'record.tag_missing': ['tag'],
  'record.tag_invalid': ['tag', 'value'],
  'record.uri_invalid': ['tag', 'uri'],
  'record.multiple': ['count'],
  // The MTA-STS policy fetch (RFC 8461 3.3): what went wrong with the HTTPS request.
  'fetch.status': ['status'],
  'fetch.too_large': ['limit'],
  'fetch.bad_url': [],
  'fetch.no_address': [],
  'fetch.connect': [],
  'fetch.tls': [],
  'fetch.timeout': [],
  'fetch.http': [],
  'fetch.guarded': [],
  // The MTA-STS policy file (RFC 8461 3.2).
  'sts.policy.line': ['line'],
  'sts.policy.empty_field': ['field'],
  'sts.policy.repeated_field': ['field'],
  'sts.policy.version': [],
  'sts.policy.mode_missing': [],
  'sts.policy.mode': ['mode'],
  'sts.policy.max_age': [],
  'sts.policy.no_mx': [],
  'sts.policy.mx_pattern': ['pattern'],
  // A port-25 probe that showed nothing about the server (smtp.not_checked, probes/evaluate.ts).
  'probe.egress_unproven': [],
  'probe.deadline': [],
  'probe.wait': [],
  'probe.local_error': ['code'],
  // A TLS handshake with a mail port (probes/).
  'tls.handshake_timeout': [],
  'tls.handshake_error': ['code'],
  // DKIM key records (RFC 6376 3.6.1, RFC 8463).
  'dkim.version': ['version'],
  'dkim.version_not_first': [],
  'dkim.key_type_unknown': ['keyType'],
  'dkim.p_missing': [],
  'dkim.p_not_base64': [],
  'dkim.key_type_mismatch': ['keyType'],
  'dkim.rsa_invalid': [],
  'dkim.ed25519_length': ['bytes'],
} as const satisfies Record<string, readonly string[]>;

export type Reason = keyof typeof REASONS;

/** A reason and its params, as a check gives them: spread into the finding's params. */
export type Why = { reason: Reason } & { [param: string]: string | number };

export function why(reason: Reason, params: Record<string, string | number> = {}): Why {
  return { reason, ...params };
}

const TAG_REASONS = ['tags.empty', 'tags.not_tag_value', 'tags.bad_name', 'tags.repeated'] as const;

export interface ParamSpec {
  /** The param names a finding of this code may carry. */
  readonly params: readonly string[];
  /** The reasons (`params.reason`) a finding of this code may give. */
  readonly reasons?: readonly Reason[];
}

const p = <const T extends readonly string[]>(...params: T) => ({ params });
const r = <const T extends readonly string[]>(reasons: readonly Reason[], ...params: T) => ({ params, reasons });

export const CODE_PARAMS = {
  'domain.not_found': p(),
  'domain.dns_failed': p('name', 'type', 'status'),
  'audit.inconclusive': p('resolvers'),
  'dns.lookup_failed': p('name', 'type', 'types', 'status'),
  'mx.null': p(),
  'mx.missing': p(),
  'mx.implicit': p('addresses'),
  'mx.host_unresolvable': p('target'),
  'mx.cname': p('target', 'cname'),
  'mx.ip_literal': p('target'),
  'mx.private_address': p('target', 'addresses'),
  'ptr.missing': p('address', 'host'),
  'ptr.mismatch': p('address', 'host', 'ptr'),
  'spf.missing': p(),
  'spf.multiple': p(),
  'spf.syntax': r(
    [
      'spf.not_spf',
      'spf.non_ascii',
      'spf.unknown_mechanism',
      'spf.invalid_term',
      'spf.all_argument',
      'spf.domain_missing',
      'spf.invalid_domain_spec',
      'spf.invalid_macro',
      'spf.invalid_network',
      'spf.invalid_cidr',
      'spf.duplicate_modifier',
    ],
    'reason',
    'mechanism',
    'term',
    'modifier',
    'text',
  ),
  'spf.lookups.too_many': p('count', 'limit'),
  'spf.void_lookups.too_many': p('count', 'limit', 'terms'),
  'spf.include.missing': p('via', 'target'),
  'spf.include.loop': p('via', 'target'),
  'spf.all.pass': p('term'),
  'spf.all.neutral': p('term'),
  'spf.ptr': p(),
  'spf.mx.too_many': p('term', 'target', 'limit'),
  'dmarc.missing': p(),
  'dmarc.multiple': p(),
  'dmarc.syntax': r(
    [
      ...TAG_REASONS,
      'record.leading_space',
      'record.version_first',
      'record.tag_missing',
      'record.tag_invalid',
      'record.uri_invalid',
    ],
    'reason',
    'tag',
    'version',
    'value',
    'uri',
    'text',
  ),
  'dmarc.policy.none': p('policy'),
  'dmarc.pct.partial': p('pct'),
  'dmarc.rua.missing': p(),
  'dmarc.rua.unauthorized': p('address', 'destination', 'policyDomain'),
  'dmarc.inherited': p('organizationalDomain'),
  'dkim.missing': p('selectors'),
  'dkim.key.insecure': p('selector', 'keyType', 'bits'),
  'dkim.key.short': p('selector', 'keyType', 'bits'),
  'dkim.revoked': p('selector'),
  'dkim.testing': p('selector', 'keyType', 'bits'),
  'dkim.syntax': r(
    [
      ...TAG_REASONS,
      'dkim.version',
      'dkim.version_not_first',
      'dkim.key_type_unknown',
      'dkim.p_missing',
      'dkim.p_not_base64',
      'dkim.key_type_mismatch',
      'dkim.rsa_invalid',
      'dkim.ed25519_length',
    ],
    'selector',
    'reason',
    'tag',
    'version',
    'keyType',
    'bytes',
  ),
  'dkim.key.not_for_email': p('selector', 'services'),
  'mta_sts.missing': p(),
  'mta_sts.record.invalid': r(
    [...TAG_REASONS, 'record.version_first', 'record.tag_missing', 'record.tag_invalid', 'record.multiple'],
    'reason',
    'tag',
    'version',
    'value',
    'count',
    'records',
  ),
  'mta_sts.policy.unreachable': r(
    [
      'fetch.status',
      'fetch.bad_url',
      'fetch.no_address',
      'fetch.connect',
      'fetch.tls',
      'fetch.timeout',
      'fetch.http',
      'fetch.guarded',
    ],
    'url',
    'reason',
    'status',
  ),
  'mta_sts.policy.invalid': r(
    [
      'fetch.too_large',
      'sts.policy.line',
      'sts.policy.empty_field',
      'sts.policy.repeated_field',
      'sts.policy.version',
      'sts.policy.mode_missing',
      'sts.policy.mode',
      'sts.policy.max_age',
      'sts.policy.no_mx',
      'sts.policy.mx_pattern',
    ],
    'url',
    'reason',
    'limit',
    'line',
    'field',
    'mode',
    'pattern',
  ),
  'mta_sts.mx_mismatch': p('host', 'mode', 'mx'),
  'tlsrpt.missing': p(),
  'tlsrpt.syntax': r(
    [
      ...TAG_REASONS,
      'record.version_first',
      'record.tag_missing',
      'record.tag_invalid',
      'record.uri_invalid',
      'record.multiple',
    ],
    'reason',
    'tag',
    'version',
    'value',
    'uri',
    'count',
    'text',
  ),
  'bimi.missing': p(),
  'bimi.syntax': r(
    [...TAG_REASONS, 'record.version_first', 'record.tag_invalid', 'record.multiple'],
    'reason',
    'tag',
    'version',
    'value',
    'count',
  ),
  'dnssec.unsigned': p('provenAt'),
  'dnssec.bogus': p('name', 'type', 'unvalidated'),
  'dane.tlsa.mismatch': p('host', 'tlsa'),
  'smtp.unreachable': p('addresses'),
  'smtp.not_checked': r(
    ['probe.egress_unproven', 'probe.deadline', 'probe.wait', 'probe.local_error'],
    'reason',
    'code',
    'addresses',
  ),
  'smtp.starttls.missing': p('host', 'address', 'port'),
  'smtp.ipv6.unreachable': p('host', 'addresses'),
  'imap.starttls.missing': p('host', 'address', 'port'),
  'imap.plaintext_auth': p('host', 'address', 'port'),
  'pop3.stls.missing': p('host', 'address', 'port'),
  'pop3.plaintext_auth': p('host', 'address', 'port'),
  'tls.handshake.failed': r(
    ['tls.handshake_timeout', 'tls.handshake_error'],
    'host',
    'address',
    'port',
    'reason',
    'code',
  ),
  'tls.version.legacy': p('host', 'address', 'port', 'version'),
  'tls.cert.expired': p('host', 'address', 'port', 'subject', 'issuer', 'validTo', 'names'),
  'tls.cert.expiring': p('host', 'address', 'port', 'subject', 'issuer', 'validTo', 'names', 'days'),
  'tls.cert.untrusted': p('host', 'address', 'port', 'subject', 'issuer', 'validTo', 'names'),
  'tls.cert.name_mismatch': p('host', 'address', 'port', 'subject', 'issuer', 'validTo', 'names'),
  'transport.unresponsive': p('host', 'address', 'port'),
  'transport.protocol_error': p('host', 'address', 'port'),
  // A blocklist's `reason` is the list's own TXT answer, quoted as data, not one of REASONS.
  'blocklist.ip.listed': p('address', 'zone', 'answer', 'meaning', 'reason'),
  'blocklist.domain.listed': p('domain', 'zone', 'answer', 'meaning', 'reason'),
  'blocklist.query.refused': p('zone', 'subject', 'answer'),
  'message.spf.fail': p('domain', 'identity', 'ip', 'comment'),
  'message.spf.softfail': p('domain', 'identity', 'ip', 'comment'),
  'message.spf.neutral': p('domain', 'identity', 'ip', 'comment'),
  'message.spf.none': p('domain', 'identity', 'ip', 'comment'),
  'message.spf.permerror': p('domain', 'identity', 'ip', 'comment'),
  'message.dkim.missing': p('fromDomain'),
  'message.dkim.body_hash': p('domain', 'selector', 'algorithm', 'result', 'comment'),
  'message.dkim.key_missing': p('domain', 'selector', 'algorithm', 'result', 'comment'),
  'message.dkim.key_weak': p('domain', 'selector', 'algorithm', 'result', 'comment'),
  'message.dkim.fail': p('domain', 'selector', 'algorithm', 'result', 'comment'),
  'message.dkim.sha1': p('domain', 'selector', 'algorithm', 'result', 'comment'),
  'message.dkim.unaligned': p('fromDomain', 'domains'),
  'message.dmarc.fail': p('policy', 'policyDomain', 'spfAligned', 'dkimAligned'),
  'message.dmarc.none': p('fromDomain'),
  'message.from.invalid': p('fromFields', 'addresses'),
  'message.from.other_domain': p('fromDomain', 'domain'),
  'message.arc.fail': p('instance', 'comment'),
  'message.tls.none': p('ip'),
  'message.tls.legacy': p('ip', 'version', 'cipher'),
  'message.iprev.missing': p('ip'),
  'message.iprev.mismatch': p('ip', 'ptr'),
  'message.helo.mismatch': p('helo', 'ip', 'addresses', 'comment'),
  'message.blocklist.listed': p('zone', 'address', 'answer'),
  'message.blocklist.refused': p('zone', 'address', 'answer'),
} as const satisfies { readonly [C in Code]: ParamSpec };

export type ParamName<C extends Code> = (typeof CODE_PARAMS)[C]['params'][number];

/** The params a finding of code `C` may carry (all optional: a check leaves out what it lacks). */
export type ParamsOf<C extends Code> = { [K in ParamName<C>]?: unknown };
