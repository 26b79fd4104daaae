/**
 * The one place where the lab's domains are declared. Zones, keys, certificates and server
 * configurations are all generated from what this file returns; nothing generated is committed.
 *
 * Every scenario starts from the all-good domain (`good.test`) and changes one thing, so that the
 * codes it declares are exactly those a correct audit reports for it.
 */
import {
  BULK_HOST_NET,
  CLOSED_POLICY_ADDRESS,
  HOST_NET,
  INBOUND_ADDRESS,
  INERT_NET,
  ipv6Of,
  POLICY_ADDRESS,
  SENDER_NET,
} from './addresses.js';
import type { HostSpec, LabModel, Materials, PolicySpec, Rec, Scenario, ZoneSpec } from './model.js';

/** The shared, well-configured mail host most scenario domains use as MX. */
export const GOOD_MX = 'mx1.mailhost.test';
/** Zone holding the shared mail hosts. */
export const MAILHOST_ZONE = 'mailhost.test';
/** IP blocklist zone (RFC 5782 layout) served by the lab. */
export const IP_BLOCKLIST = 'zen.dnsbl.test';
/** Domain blocklist zone served by the lab. */
export const DOMAIN_BLOCKLIST = 'dbl.dnsbl.test';
/**
 * The lab also answers, on its fake root, for the zones of the auditor's built-in Spamhaus lists
 * with the same entries, so that an audit run with the default lists (no --ip-blocklist) gives the
 * declared codes too. These names never leave the machine: the lab's resolver asks only the lab.
 */
export const MIRRORED_IP_BLOCKLISTS: readonly string[] = [IP_BLOCKLIST, 'zen.spamhaus.org'];
export const MIRRORED_DOMAIN_BLOCKLISTS: readonly string[] = [DOMAIN_BLOCKLIST, 'dbl.spamhaus.org'];
/** DKIM selector every good scenario publishes; in the common-selector list audits try. */
export const DKIM_SELECTOR = 'default';

type Value = string | ((m: Materials) => string);

interface DomainOptions {
  /** The zone the domain lives in; `false` when it sits inside another declared zone. */
  zone?: Partial<ZoneSpec> | false;
  /** MX targets by preference order; `null`: RFC 7505 null MX; `none`: no MX at all. */
  mx?: string[] | 'null' | 'none';
  /** A records at the domain itself. */
  a?: string[];
  spf?: Value[];
  dmarc?: Value[];
  /** TXT values at `default._domainkey.<domain>`. */
  dkim?: Value[];
  /** `false`: no `_mta-sts` TXT and no policy host. */
  mtaSts?: false | { server?: 'lab' | 'closed'; policy?: string };
  tlsrpt?: Value[];
  bimi?: Value[];
  records?: Rec[];
  hosts?: HostSpec[];
}

interface Fragment {
  zones: ZoneSpec[];
  records: Rec[];
  hosts: HostSpec[];
  policies: PolicySpec[];
  scenarios: Scenario[];
  listedDomains: string[];
}

function emptyFragment(): Fragment {
  return { zones: [], records: [], hosts: [], policies: [], scenarios: [], listedDomains: [] };
}

function merge(into: Fragment, from: Fragment): void {
  into.zones.push(...from.zones);
  into.records.push(...from.records);
  into.hosts.push(...from.hosts);
  into.policies.push(...from.policies);
  into.scenarios.push(...from.scenarios);
  into.listedDomains.push(...from.listedDomains);
}

/** A policy body in the RFC 8461 section 3.2 format. */
export function stsPolicy(mode: 'enforce' | 'testing' | 'none', mx: string[]): string {
  const lines = ['version: STSv1', `mode: ${mode}`, ...mx.map((m) => `mx: ${m}`), 'max_age: 604800'];
  return `${lines.join('\r\n')}\r\n`;
}

/**
 * The records of a mail domain: all good unless an option says otherwise.
 * Good means: MX to the shared good host, `v=spf1 mx -all`, DMARC p=reject with a local rua,
 * a 2048-bit DKIM key, MTA-STS in enforce mode, TLS-RPT, BIMI, a signed zone.
 */
function mailDomain(domain: string, o: DomainOptions = {}): Fragment {
  const f = emptyFragment();
  const rec = (name: string, type: Rec['type'], data: Value): void => {
    f.records.push({ name, type, data });
  };
  if (o.zone !== false) f.zones.push({ apex: domain, dnssec: 'signed', ...o.zone });

  const mx = o.mx ?? [GOOD_MX];
  if (mx === 'null') rec(domain, 'MX', '0 .');
  else if (mx !== 'none') {
    for (const [i, target] of mx.entries()) rec(domain, 'MX', `${10 * (i + 1)} ${target}.`);
  }
  for (const a of o.a ?? []) rec(domain, 'A', a);

  for (const v of o.spf ?? ['v=spf1 mx -all']) rec(domain, 'TXT', v);
  for (const v of o.dmarc ?? [`v=DMARC1; p=reject; rua=mailto:dmarc-reports@${domain}`])
    rec(`_dmarc.${domain}`, 'TXT', v);
  for (const v of o.dkim ?? [(m: Materials) => m.dkimKey(2048)]) rec(`${DKIM_SELECTOR}._domainkey.${domain}`, 'TXT', v);
  for (const v of o.tlsrpt ?? [`v=TLSRPTv1; rua=mailto:tlsrpt@${domain}`]) rec(`_smtp._tls.${domain}`, 'TXT', v);
  for (const v of o.bimi ?? [`v=BIMI1; l=https://${domain}/bimi/logo.svg`]) rec(`default._bimi.${domain}`, 'TXT', v);

  if (o.mtaSts !== false) {
    const sts = o.mtaSts ?? {};
    const server = sts.server ?? 'lab';
    rec(`_mta-sts.${domain}`, 'TXT', 'v=STSv1; id=20261129T000000');
    rec(`mta-sts.${domain}`, 'A', server === 'lab' ? POLICY_ADDRESS : CLOSED_POLICY_ADDRESS);
    const policyMx = Array.isArray(mx) ? mx : mx === 'none' ? [domain] : [];
    // A domain that receives no mail (null MX) can only publish mode none (RFC 8461 5).
    const fallback = policyMx.length > 0 ? stsPolicy('enforce', policyMx) : stsPolicy('none', []);
    f.policies.push({ domain, server, body: sts.policy ?? fallback });
  }
  f.records.push(...(o.records ?? []));
  f.hosts.push(...(o.hosts ?? []));
  return f;
}

/** A scenario: a mail domain and what its audit must report. */
function scenario(
  domain: string,
  about: string,
  expect: Scenario['expect'],
  o: DomainOptions & { absent?: Scenario['absent']; options?: Scenario['options'] } = {},
): Fragment {
  const f = mailDomain(domain, o);
  const s: Scenario = { domain, about, expect };
  if (o.absent) s.absent = o.absent;
  if (o.options) s.options = o.options;
  f.scenarios.push(s);
  return f;
}

/** An address nothing listens on, for names that must resolve but are never probed. */
function inert(n: number): string {
  return `${INERT_NET}.${n}`;
}

/** `count` `a:` mechanisms whose targets resolve (not void). */
function resolvingTargets(domain: string, count: number): { terms: string; records: Rec[] } {
  const names = Array.from({ length: count }, (_, i) => `h${i + 1}.${domain}`);
  return {
    terms: names.map((n) => `a:${n}`).join(' '),
    records: names.map((n, i) => ({ name: n, type: 'A', data: inert(i + 1) })),
  };
}

/** An access host (IMAP/POP3) at `imap.<domain>`. */
function accessHost(domain: string, access: HostSpec['access'], cert: HostSpec['cert'] = 'good'): HostSpec {
  return { name: `imap.${domain}`, access, cert };
}

/** States the lab can switch between while running (setVariant), for tests of what changes overnight. */
export type LabVariant = 'base' | 'regressed';
/** Zones a variant rewrites (unsigned, so that no key changes). */
export const VARIANT_ZONES: readonly string[] = ['nightly-regress.test', 'dnsbl.test', 'spamhaus.org'];

/** What the resolver answers once a variant is in place: owner, type, and the TXT text or A presence. */
export function variantAnswers(variant: LabVariant): { name: string; type: 'TXT' | 'A'; expect: string | boolean }[] {
  const regressed = variant === 'regressed';
  return [
    { name: 'nightly-regress.test', type: 'TXT', expect: regressed ? 'v=spf1 mx +all' : 'v=spf1 mx -all' },
    ...MIRRORED_DOMAIN_BLOCKLISTS.map((zone) => ({
      name: `nightly-regress.test.${zone}`,
      type: 'A' as const,
      expect: regressed,
    })),
  ];
}

function scenarios(variant: LabVariant): Fragment {
  const all = emptyFragment();
  const add = (f: Fragment): void => merge(all, f);

  add(
    scenario('good.test', 'everything right: the reference all other scenarios change one thing of', [], {
      absent: ['dnssec.unsigned', 'dkim.missing', 'mta_sts.missing', 'dane.tlsa.mismatch'],
    }),
  );

  // Domain and DNS failures
  all.scenarios.push({
    domain: 'nxdomain.test',
    about: 'the name does not exist at all (NXDOMAIN from test.)',
    expect: ['domain.not_found'],
    absent: ['spf.missing', 'dmarc.missing', 'mx.missing'],
  });
  all.zones.push({ apex: 'lame.test', server: 'blackhole' });
  all.scenarios.push({
    domain: 'lame.test',
    about:
      'delegated to a nameserver that never answers: every lookup fails, nothing is "missing"; the resolver works, so it is the domain\'s failure',
    expect: ['domain.dns_failed', 'dns.lookup_failed'],
    absent: ['domain.not_found', 'spf.missing', 'dmarc.missing', 'mx.missing', 'dnssec.bogus'],
  });

  // MX
  add(
    scenario('nullmx.test', 'publishes a null MX (RFC 7505): it receives no mail', ['mx.null'], {
      mx: 'null',
      absent: ['mx.missing', 'smtp.unreachable'],
    }),
  );
  add(scenario('nomx.test', 'no MX and no address: cannot receive mail', ['mx.missing'], { mx: 'none' }));
  add(
    scenario('implicit-mx.test', 'no MX; mail falls back to the A record', ['mx.implicit'], {
      mx: 'none',
      hosts: [{ name: 'implicit-mx.test', smtp: 'good' }],
    }),
  );
  add(
    scenario('mx-unresolvable.test', 'one MX target has no address; the other works', ['mx.host_unresolvable'], {
      mx: ['gone.mx-unresolvable.test', GOOD_MX],
    }),
  );
  add(
    scenario('mx-cname.test', 'the MX target is a CNAME to the real host', ['mx.cname'], {
      mx: ['smtp.mx-cname.test'],
      records: [{ name: 'smtp.mx-cname.test', type: 'CNAME', data: 'host.mx-cname.test.' }],
      hosts: [{ name: 'host.mx-cname.test', aliases: ['smtp.mx-cname.test'], smtp: 'good' }],
    }),
  );
  add(
    scenario(
      'mx-ip-literal.test',
      'an MX target written as an IP address (a name that has no address); a second MX works',
      ['mx.ip_literal', 'mx.host_unresolvable'],
      { mx: [`${HOST_NET}.1`, GOOD_MX] },
    ),
  );
  add(
    scenario(
      'mx-private.test',
      'audited without --allow-private-targets: the MX resolves to 192.168.25.25 only, which must never be contacted',
      ['mx.private_address', 'mta_sts.missing'],
      {
        mx: ['mx.mx-private.test'],
        mtaSts: false,
        records: [{ name: 'mx.mx-private.test', type: 'A', data: '192.168.25.25' }],
        absent: ['smtp.unreachable', 'ptr.missing'],
        options: { allowPrivateTargets: false },
      },
    ),
  );

  // PTR
  add(
    scenario('ptr-missing.test', 'the MX address has no PTR record', ['ptr.missing'], {
      mx: ['mx.ptr-missing.test'],
      hosts: [{ name: 'mx.ptr-missing.test', smtp: 'good', ptr: 'none' }],
    }),
  );
  add(
    scenario('ptr-mismatch.test', "the MX address's PTR names a host that resolves elsewhere", ['ptr.mismatch'], {
      mx: ['mx.ptr-mismatch.test'],
      records: [{ name: 'elsewhere.ptr-mismatch.test', type: 'A', data: inert(200) }],
      hosts: [{ name: 'mx.ptr-mismatch.test', smtp: 'good', ptr: { name: 'elsewhere.ptr-mismatch.test' } }],
    }),
  );

  // SPF (RFC 7208)
  add(scenario('spf-missing.test', 'no SPF record', ['spf.missing'], { spf: [] }));
  add(
    scenario('spf-multiple.test', 'two v=spf1 records', ['spf.multiple'], {
      spf: ['v=spf1 mx -all', 'v=spf1 a -all'],
    }),
  );
  add(scenario('spf-syntax.test', 'an unknown mechanism', ['spf.syntax'], { spf: ['v=spf1 mx foo:bar -all'] }));
  {
    const ten = resolvingTargets('_spf.spf-lookups-10.test', 8);
    add(
      scenario('spf-lookups-10.test', 'exactly 10 DNS-querying terms through an include: allowed', [], {
        spf: ['v=spf1 mx include:_spf.spf-lookups-10.test -all'],
        records: [{ name: '_spf.spf-lookups-10.test', type: 'TXT', data: `v=spf1 ${ten.terms} ?all` }, ...ten.records],
        absent: ['spf.lookups.too_many'],
      }),
    );
    const eleven = resolvingTargets('_spf.spf-lookups-11.test', 9);
    add(
      scenario(
        'spf-lookups-11.test',
        '11 DNS-querying terms through an include: one too many',
        ['spf.lookups.too_many'],
        {
          spf: ['v=spf1 mx include:_spf.spf-lookups-11.test -all'],
          records: [
            { name: '_spf.spf-lookups-11.test', type: 'TXT', data: `v=spf1 ${eleven.terms} ?all` },
            ...eleven.records,
          ],
        },
      ),
    );
  }
  add(
    scenario('spf-void-2.test', 'two terms whose lookups find nothing: allowed', [], {
      spf: ['v=spf1 mx a:void1.spf-void-2.test a:void2.spf-void-2.test -all'],
      absent: ['spf.void_lookups.too_many'],
    }),
  );
  add(
    scenario('spf-void-3.test', 'three void lookups: over the RFC 7208 4.6.4 limit', ['spf.void_lookups.too_many'], {
      spf: ['v=spf1 mx a:void1.spf-void-3.test a:void2.spf-void-3.test a:void3.spf-void-3.test -all'],
    }),
  );
  add(
    scenario('spf-include-missing.test', 'an include whose target publishes no SPF', ['spf.include.missing'], {
      spf: ['v=spf1 mx include:nospf.spf-include-missing.test -all'],
      records: [{ name: 'nospf.spf-include-missing.test', type: 'A', data: inert(201) }],
    }),
  );
  add(
    scenario('spf-include-loop.test', 'an include that includes the domain again', ['spf.include.loop'], {
      spf: ['v=spf1 mx include:loop.spf-include-loop.test -all'],
      records: [{ name: 'loop.spf-include-loop.test', type: 'TXT', data: 'v=spf1 include:spf-include-loop.test -all' }],
      absent: ['spf.lookups.too_many'],
    }),
  );
  add(scenario('spf-all-pass.test', 'ends in +all', ['spf.all.pass'], { spf: ['v=spf1 mx +all'] }));
  add(scenario('spf-all-neutral.test', 'ends in ?all', ['spf.all.neutral'], { spf: ['v=spf1 mx ?all'] }));
  add(scenario('spf-ptr.test', 'uses the ptr mechanism', ['spf.ptr'], { spf: ['v=spf1 mx ptr -all'] }));

  // DMARC (RFC 7489)
  add(
    scenario('dmarc-missing.test', 'no DMARC record here nor at the organizational domain', ['dmarc.missing'], {
      dmarc: [],
    }),
  );
  add(
    scenario('dmarc-multiple.test', 'two DMARC records', ['dmarc.multiple'], {
      dmarc: [
        'v=DMARC1; p=reject; rua=mailto:dmarc-reports@dmarc-multiple.test',
        'v=DMARC1; p=none; rua=mailto:dmarc-reports@dmarc-multiple.test',
      ],
    }),
  );
  add(
    scenario('dmarc-syntax.test', 'an invalid p= value', ['dmarc.syntax'], {
      dmarc: ['v=DMARC1; p=bogus; rua=mailto:dmarc-reports@dmarc-syntax.test'],
    }),
  );
  add(
    scenario('dmarc-none.test', 'p=none', ['dmarc.policy.none'], {
      dmarc: ['v=DMARC1; p=none; rua=mailto:dmarc-reports@dmarc-none.test'],
    }),
  );
  add(
    scenario('dmarc-pct.test', 'pct=50', ['dmarc.pct.partial'], {
      dmarc: ['v=DMARC1; p=quarantine; pct=50; rua=mailto:dmarc-reports@dmarc-pct.test'],
    }),
  );
  add(scenario('dmarc-norua.test', 'no rua', ['dmarc.rua.missing'], { dmarc: ['v=DMARC1; p=reject'] }));
  add(
    scenario(
      'dmarc-rua-external.test',
      'rua at another organization that has not authorized it',
      ['dmarc.rua.unauthorized'],
      {
        dmarc: ['v=DMARC1; p=reject; rua=mailto:agg@reports.test'],
      },
    ),
  );
  add(
    scenario('dmarc-rua-authorized.test', 'rua at another organization that authorized it by name', [], {
      dmarc: ['v=DMARC1; p=reject; rua=mailto:agg@reports.test'],
      absent: ['dmarc.rua.unauthorized'],
    }),
  );
  add(
    scenario('dmarc-rua-wildcard.test', 'rua at another organization that authorizes everyone by wildcard', [], {
      dmarc: ['v=DMARC1; p=reject; rua=mailto:agg@wild-reports.test'],
      absent: ['dmarc.rua.unauthorized'],
    }),
  );
  all.zones.push({ apex: 'reports.test' }, { apex: 'wild-reports.test' });
  all.records.push(
    { name: 'reports.test', type: 'MX', data: `10 ${GOOD_MX}.` },
    { name: 'dmarc-rua-authorized.test._report._dmarc.reports.test', type: 'TXT', data: 'v=DMARC1' },
    { name: 'wild-reports.test', type: 'MX', data: `10 ${GOOD_MX}.` },
    { name: '*._report._dmarc.wild-reports.test', type: 'TXT', data: 'v=DMARC1' },
  );
  all.zones.push({ apex: 'dmarc-org.test' });
  all.records.push({
    name: '_dmarc.dmarc-org.test',
    type: 'TXT',
    data: 'v=DMARC1; p=reject; rua=mailto:dmarc-reports@dmarc-org.test',
  });
  add(
    scenario(
      'sub.dmarc-org.test',
      'a subdomain without its own DMARC record: the organizational one applies',
      ['dmarc.inherited'],
      {
        zone: false,
        dmarc: [],
        absent: ['dmarc.missing'],
      },
    ),
  );

  // DKIM (RFC 6376, RFC 8301)
  add(scenario('dkim-missing.test', 'no key under any common selector', ['dkim.missing'], { dkim: [] }));
  add(scenario('dkim-insecure.test', 'a 512-bit RSA key', ['dkim.key.insecure'], { dkim: [(m) => m.dkimKey(512)] }));
  add(scenario('dkim-short.test', 'a 1024-bit RSA key', ['dkim.key.short'], { dkim: [(m) => m.dkimKey(1024)] }));
  add(
    scenario('dkim-revoked.test', 'an empty p= (revoked key)', ['dkim.revoked'], {
      dkim: ['v=DKIM1; k=rsa; p='],
      absent: ['dkim.missing'],
    }),
  );
  add(
    scenario('dkim-testing.test', 't=y', ['dkim.testing'], {
      dkim: [(m) => m.dkimKey(2048).replace('v=DKIM1;', 'v=DKIM1; t=y;')],
    }),
  );
  add(
    scenario('dkim-syntax.test', 'a key that is not base64', ['dkim.syntax'], {
      dkim: ['v=DKIM1; k=rsa; p=!!not-base64!!'],
    }),
  );

  // MTA-STS (RFC 8461), TLS-RPT (RFC 8460), BIMI
  add(scenario('mta-sts-missing.test', 'no _mta-sts record', ['mta_sts.missing'], { mtaSts: false }));
  add(
    scenario('mta-sts-unreachable.test', 'the policy host has nothing on 443', ['mta_sts.policy.unreachable'], {
      mtaSts: { server: 'closed' },
    }),
  );
  add(
    scenario('mta-sts-invalid.test', 'the policy body does not parse', ['mta_sts.policy.invalid'], {
      mtaSts: { policy: 'this is not an MTA-STS policy\n' },
    }),
  );
  add(
    scenario('mta-sts-mismatch.test', 'an enforce policy that does not name the MX', ['mta_sts.mx_mismatch'], {
      mtaSts: { policy: stsPolicy('enforce', ['other.mailhost.test']) },
    }),
  );
  add(
    scenario(
      'mta-sts-testing-mismatch.test',
      'a testing policy that does not name the MX (warning)',
      ['mta_sts.mx_mismatch'],
      {
        mtaSts: { policy: stsPolicy('testing', ['*.elsewhere.test']) },
      },
    ),
  );
  add(scenario('tlsrpt-missing.test', 'no _smtp._tls record', ['tlsrpt.missing'], { tlsrpt: [] }));
  add(
    scenario('tlsrpt-syntax.test', 'a rua that is neither mailto: nor https:', ['tlsrpt.syntax'], {
      tlsrpt: ['v=TLSRPTv1; rua=ftp://reports.tlsrpt-syntax.test'],
    }),
  );
  add(scenario('bimi-missing.test', 'no default._bimi record', ['bimi.missing'], { bimi: [] }));
  add(
    scenario('bimi-syntax.test', 'tags not separated by semicolons', ['bimi.syntax'], {
      bimi: ['v=BIMI1 l=https://bimi-syntax.test/logo.svg'],
    }),
  );

  // DNSSEC
  add(
    scenario('dnssec-unsigned.test', 'an insecure delegation: no DS under the signed test. zone', ['dnssec.unsigned'], {
      zone: { dnssec: 'unsigned' },
    }),
  );
  add(
    scenario(
      'dnssec-bogus.test',
      'signed, but the SPF record was altered after signing: SERVFAIL, answered with CD',
      ['dnssec.bogus', 'dns.lookup_failed'],
      { zone: { dnssec: 'bogus', tamper: { name: 'dnssec-bogus.test', type: 'TXT' } }, absent: ['spf.missing'] },
    ),
  );
  add(
    scenario(
      'dnssec-ds-mismatch.test',
      'signed, but the DS in test. matches none of its keys (a rollover or a move of DNS host without updating the DS): every answer SERVFAILs, the MX too; CD shows the records',
      ['dnssec.bogus', 'dns.lookup_failed'],
      { zone: { dnssec: 'ds-mismatch' }, absent: ['mx.missing', 'spf.missing', 'dmarc.missing', 'smtp.unreachable'] },
    ),
  );
  add(
    scenario(
      'dnssec-bogus-mx.test',
      'signed, but the apex MX was altered after signing: the MX lookup SERVFAILs, the rest validates',
      ['dnssec.bogus', 'dns.lookup_failed'],
      {
        zone: { dnssec: 'bogus', tamper: { name: 'dnssec-bogus-mx.test', type: 'MX' } },
        absent: ['mx.missing', 'smtp.unreachable', 'mta_sts.mx_mismatch'],
      },
    ),
  );

  // Transport: SMTP, DANE
  add(
    scenario('dane-mismatch.test', 'TLSA at _25._tcp of the MX matches no served certificate', ['dane.tlsa.mismatch'], {
      mx: ['mx.dane-mismatch.test'],
      hosts: [{ name: 'mx.dane-mismatch.test', smtp: 'good', tlsa: 'mismatch' }],
    }),
  );
  add(
    scenario('smtp-unreachable.test', 'the only MX has nothing listening', ['smtp.unreachable'], {
      mx: ['mx.smtp-unreachable.test'],
      hosts: [{ name: 'mx.smtp-unreachable.test' }],
    }),
  );
  add(
    scenario(
      'smtp-blackhole.test',
      'the only MX never answers on 25 (SYNs dropped: every connect times out); unreachable from a process that has seen port 25 answer elsewhere, as here beside the other scenarios; from one that has not, smtp.not_checked (tests/engine/egress.test.ts)',
      ['smtp.unreachable'],
      {
        mx: ['mx.smtp-blackhole.test'],
        hosts: [{ name: 'mx.smtp-blackhole.test', smtp: 'blackhole' }],
        absent: ['smtp.not_checked'],
      },
    ),
  );
  add(
    scenario('smtp-nostarttls.test', 'the MX does not offer STARTTLS on 25', ['smtp.starttls.missing'], {
      mx: ['mx.smtp-nostarttls.test'],
      hosts: [{ name: 'mx.smtp-nostarttls.test', smtp: 'nostarttls' }],
    }),
  );
  add(
    scenario(
      'smtp-badtls.test',
      'the MX offers STARTTLS, then answers the handshake with garbage',
      ['tls.handshake.failed'],
      {
        mx: ['mx.smtp-badtls.test'],
        hosts: [{ name: 'mx.smtp-badtls.test', smtp: 'badtls' }],
        absent: ['smtp.starttls.missing'],
      },
    ),
  );

  // A domain whose records change while the lab runs: `regressed` opens its SPF to +all and lists
  // it on the domain blocklist, as a night that goes wrong.
  add(
    scenario(
      'nightly-regress.test',
      'changes overnight (lab variant "regressed": SPF +all, domain blocklisted)',
      ['dnssec.unsigned'],
      {
        zone: { dnssec: 'unsigned' },
        spf: [variant === 'regressed' ? 'v=spf1 mx +all' : 'v=spf1 mx -all'],
      },
    ),
  );
  if (variant === 'regressed') all.listedDomains.push('nightly-regress.test');

  add(
    scenario('slow-smtp.test', 'the MX greets 4 seconds late, within probe timeouts: a slow audit, nothing wrong', [], {
      mx: ['mx.slow-smtp.test'],
      hosts: [{ name: 'mx.slow-smtp.test', smtp: 'slow' }],
    }),
  );

  add(
    scenario(
      'smtp-endless.test',
      'the MX answers with an endless line instead of a greeting',
      ['transport.protocol_error'],
      {
        mx: ['mx.smtp-endless.test'],
        hosts: [{ name: 'mx.smtp-endless.test', smtp: 'endless' }],
        absent: ['smtp.unreachable', 'smtp.starttls.missing'],
      },
    ),
  );

  // Transport: IMAP and POP3 (Dovecot)
  add(
    scenario(
      'imap-nostarttls.test',
      'imap.<domain> offers neither STARTTLS nor STLS',
      ['imap.starttls.missing', 'pop3.stls.missing'],
      {
        hosts: [accessHost('imap-nostarttls.test', 'nostarttls')],
        absent: ['imap.plaintext_auth', 'pop3.plaintext_auth'],
      },
    ),
  );
  add(
    scenario(
      'access-plaintext.test',
      'imap.<domain> allows login in clear before TLS',
      ['imap.plaintext_auth', 'pop3.plaintext_auth'],
      {
        hosts: [accessHost('access-plaintext.test', 'plaintext')],
        absent: ['imap.starttls.missing', 'pop3.stls.missing'],
      },
    ),
  );
  add(
    scenario('tls-legacy.test', 'imap.<domain> accepts TLS 1.0 and 1.1', ['tls.version.legacy'], {
      hosts: [accessHost('tls-legacy.test', 'legacytls')],
    }),
  );

  // Certificates
  add(
    scenario('cert-expired.test', "imap.<domain>'s certificate expired 30 days ago", ['tls.cert.expired'], {
      hosts: [accessHost('cert-expired.test', 'good', 'expired')],
    }),
  );
  add(
    scenario('cert-expiring.test', "imap.<domain>'s certificate expires in 7 days", ['tls.cert.expiring'], {
      hosts: [accessHost('cert-expiring.test', 'good', 'expiring')],
    }),
  );
  add(
    scenario('cert-selfsigned.test', "imap.<domain>'s certificate is self-signed", ['tls.cert.untrusted'], {
      hosts: [accessHost('cert-selfsigned.test', 'good', 'selfsigned')],
    }),
  );
  add(
    scenario('cert-wrongname.test', "imap.<domain>'s certificate names another host", ['tls.cert.name_mismatch'], {
      hosts: [accessHost('cert-wrongname.test', 'good', 'wrongname')],
    }),
  );

  // Blocklists
  add(
    scenario('blocklist-ip.test', "the MX address is on the lab's IP list", ['blocklist.ip.listed'], {
      mx: ['mx.blocklist-ip.test'],
      hosts: [{ name: 'mx.blocklist-ip.test', smtp: 'good', dnsbl: 'listed' }],
    }),
  );
  add(scenario('blocklist-domain.test', "the domain is on the lab's domain list", ['blocklist.domain.listed']));
  all.listedDomains.push('blocklist-domain.test');
  add(
    scenario(
      'blocklist-refused.test',
      'the IP list answers 127.255.255.254 for the MX address: an error code, not a listing',
      ['blocklist.query.refused'],
      {
        mx: ['mx.blocklist-refused.test'],
        hosts: [{ name: 'mx.blocklist-refused.test', smtp: 'good', dnsbl: 'refused' }],
        absent: ['blocklist.ip.listed'],
      },
    ),
  );

  // IPv6: mail hosts with an AAAA in the lab's own unique-local /64 (addresses.ts, LAB6_NET).
  add(
    scenario(
      'ipv6.test',
      'the MX has an IPv6 address too, serving SMTP, IMAP and POP3 there, with a PTR: nothing wrong',
      [],
      {
        mx: ['mx.ipv6.test'],
        hosts: [{ name: 'mx.ipv6.test', smtp: 'good', access: 'good', ipv6: 'serve' }],
        absent: ['smtp.ipv6.unreachable', 'imap.plaintext_auth', 'pop3.plaintext_auth', 'ptr.missing'],
      },
    ),
  );
  add(
    scenario(
      'ipv6-unreachable.test',
      "the MX's AAAA refuses connections on 25 while its A accepts them",
      ['smtp.ipv6.unreachable'],
      {
        mx: ['mx.ipv6-unreachable.test'],
        hosts: [{ name: 'mx.ipv6-unreachable.test', smtp: 'good', ipv6: 'closed' }],
        absent: ['smtp.unreachable'],
      },
    ),
  );
  add(
    scenario('ptr-ipv6-missing.test', 'the MX has no PTR record for its IPv4 nor its IPv6 address', ['ptr.missing'], {
      mx: ['mx.ptr-ipv6-missing.test'],
      hosts: [{ name: 'mx.ptr-ipv6-missing.test', smtp: 'good', ipv6: 'serve', ptr: 'none' }],
    }),
  );
  add(
    scenario(
      'blocklist-ipv6.test',
      "the MX's IPv4 and IPv6 addresses are on the lab's IP list (RFC 5782 2.4 nibble names for IPv6)",
      ['blocklist.ip.listed'],
      {
        mx: ['mx.blocklist-ipv6.test'],
        hosts: [{ name: 'mx.blocklist-ipv6.test', smtp: 'good', ipv6: 'serve', dnsbl: 'listed' }],
      },
    ),
  );
  return all;
}

/** The domain test messages are sent from; it signs with a selector outside the common list. */
export const SENDER_DOMAIN = 'sender.test';
export const SENDER_SELECTOR = 's2026';
/** A mail service that signs with its own domain: what it sends for others is not aligned. */
export const ESP_DOMAIN = 'esp-mail.test';
export const ESP_SELECTOR = 'esp1';
/** Names of the lab's signing keys (`Materials.signingKey`, `signingKeyFile`). */
export const SENDER_KEY = `${SENDER_SELECTOR}.${SENDER_DOMAIN}`;
export const ESP_KEY = `${ESP_SELECTOR}.${ESP_DOMAIN}`;
/** The inbound domain of test addresses, and the host its MX names (the receiver runs there in tests). */
export const INBOUND_DOMAIN = 'check.mailhost.test';
export const INBOUND_HOST = 'inbound.mailhost.test';

/** Addresses test messages are sent from, with the HELO name each gives. */
export const SENDERS = {
  /** In sender.test's SPF; its PTR and A agree (out.sender.test). */
  authorized: { address: `${SENDER_NET}.1`, helo: `out.${SENDER_DOMAIN}` },
  /** In no SPF record; no PTR; its HELO name resolves to it. */
  unlisted: { address: `${SENDER_NET}.2`, helo: `rogue.${SENDER_DOMAIN}` },
  /** The mail service's own outbound host, in its SPF. */
  esp: { address: `${SENDER_NET}.3`, helo: `out.${ESP_DOMAIN}` },
  /** In sender.test's SPF, PTR and A agree, but listed on the lab's IP blocklist. */
  listed: { address: `${SENDER_NET}.4`, helo: `listed.${SENDER_DOMAIN}` },
} as const;

/** The senders of test messages (issue 15): two domains, their outbound hosts and signing keys. */
function messageSenders(): Fragment {
  const f = emptyFragment();
  merge(
    f,
    scenario(
      SENDER_DOMAIN,
      `sends the test messages; DKIM signs with selector ${SENDER_SELECTOR}, outside the common list`,
      ['dkim.missing'],
      {
        spf: [`v=spf1 mx ip4:${SENDERS.authorized.address} ip4:${SENDERS.listed.address} -all`],
        dkim: [],
        records: [
          {
            name: `${SENDER_SELECTOR}._domainkey.${SENDER_DOMAIN}`,
            type: 'TXT',
            data: (m) => m.signingKey(SENDER_KEY),
          },
        ],
        hosts: [
          { name: SENDERS.authorized.helo, address: SENDERS.authorized.address },
          { name: SENDERS.unlisted.helo, address: SENDERS.unlisted.address, ptr: 'none' },
          { name: SENDERS.listed.helo, address: SENDERS.listed.address, dnsbl: 'listed' },
        ],
      },
    ),
  );
  merge(
    f,
    mailDomain(ESP_DOMAIN, {
      spf: [`v=spf1 ip4:${SENDERS.esp.address} -all`],
      dkim: [],
      records: [{ name: `${ESP_SELECTOR}._domainkey.${ESP_DOMAIN}`, type: 'TXT', data: (m) => m.signingKey(ESP_KEY) }],
      hosts: [{ name: SENDERS.esp.helo, address: SENDERS.esp.address }],
    }),
  );
  f.records.push({ name: INBOUND_DOMAIN, type: 'MX', data: `10 ${INBOUND_HOST}.` });
  f.hosts.push({ name: INBOUND_HOST, address: INBOUND_ADDRESS, cert: 'good' });
  return f;
}

/** Shared infrastructure: the good mail host, report destinations, blocklists. */
function infrastructure(): Fragment {
  const f = emptyFragment();
  f.zones.push(
    { apex: MAILHOST_ZONE },
    { apex: 'dnsbl.test', dnssec: 'unsigned' },
    { apex: 'spamhaus.org', dnssec: 'unsigned' },
  );
  f.hosts.push({ name: GOOD_MX, smtp: 'good', access: 'good', tlsa: 'match', address: `${HOST_NET}.1` });
  // RFC 5782 section 5: the test point every IP list answers.
  f.records.push(
    ...MIRRORED_IP_BLOCKLISTS.flatMap((zone): Rec[] => [
      { name: `2.0.0.127.${zone}`, type: 'A', data: '127.0.0.2' },
      { name: `2.0.0.127.${zone}`, type: 'TXT', data: 'RFC 5782 test point' },
    ]),
    ...MIRRORED_DOMAIN_BLOCKLISTS.map((zone): Rec => ({ name: `test.${zone}`, type: 'A', data: '127.0.1.2' })),
  );
  return f;
}

/** Bulk domains for benchmarks: most on four shared mail hosts, like a hosting provider's customers. */
export const BULK_HOSTS = 4;

export function bulkDomainName(i: number): string {
  return `bulk-${String(i).padStart(5, '0')}.test`;
}

function bulk(count: number): Fragment {
  const f = emptyFragment();
  for (let h = 1; h <= BULK_HOSTS; h++) {
    f.hosts.push({
      name: `bulk${h}.${MAILHOST_ZONE}`,
      smtp: 'good',
      access: 'good',
      address: `${BULK_HOST_NET}.${h}`,
    });
  }
  for (let i = 1; i <= count; i++) {
    const d = bulkDomainName(i);
    const host = `bulk${(i % BULK_HOSTS) + 1}.${MAILHOST_ZONE}`;
    // Bulk names live in the test. zone itself: thousands of delegations would measure the lab, not the auditor.
    f.records.push(
      { name: d, type: 'MX', data: `10 ${host}.` },
      { name: d, type: 'TXT', data: i % 10 === 0 ? 'v=spf1 a mx ~all' : 'v=spf1 mx -all' },
      { name: `default._domainkey.${d}`, type: 'TXT', data: (m) => m.dkimKey(2048) },
    );
    if (i % 5 !== 0) {
      f.records.push({ name: `_dmarc.${d}`, type: 'TXT', data: `v=DMARC1; p=quarantine; rua=mailto:dmarc@${d}` });
    }
  }
  return f;
}

/**
 * The whole lab. Addresses of hosts declared without one are allocated in the lab net's .1.0/24 (127.20.1.0/24 by default), after
 * the fixed ones, in declaration order.
 */
export function buildModel(bulkCount = 0, variant: LabVariant = 'base'): LabModel {
  const all = emptyFragment();
  merge(all, infrastructure());
  merge(all, scenarios(variant));
  merge(all, messageSenders());
  merge(all, bulk(bulkCount));

  const used = new Set(all.hosts.flatMap((h) => (h.address ? [h.address] : [])));
  let next = 1;
  const hosts = all.hosts.map((h): LabModel['hosts'][number] => {
    let address = h.address;
    if (!address) {
      while (used.has(`${HOST_NET}.${next}`)) next++;
      if (next > 254) throw new Error(`lab: more than 254 mail hosts in ${HOST_NET}.0/24`);
      address = `${HOST_NET}.${next}`;
      used.add(address);
    }
    return h.ipv6 ? { ...h, address, address6: ipv6Of(address) } : { ...h, address };
  });
  return { ...all, hosts };
}
