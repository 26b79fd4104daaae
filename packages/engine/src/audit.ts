/**
 * One domain's audit: the checks in order of their dependencies, their findings, the category
 * statuses, the score and the evidence, as a `mailaudit.report/1` report.
 */
import { evaluateBimi, fetchBimi } from './checks/bimi/index.js';
import {
  DEFAULT_DOMAIN_BLOCKLISTS,
  DEFAULT_IP_BLOCKLISTS,
  evaluateBlocklists,
  fetchBlocklists,
} from './checks/blocklists/index.js';
import { COMMON_SELECTORS, evaluateDkim, fetchDkim } from './checks/dkim/index.js';
import { evaluateDmarc, fetchDmarc } from './checks/dmarc/index.js';
import { diagnoseServfail, evaluateDnssec, fetchDnssec, findBogus } from './checks/dnssec/index.js';
import { fetchStsPolicy } from './checks/mta-sts/fetch-policy.js';
import { evaluateMtaSts, evaluateStsPolicy, fetchMtaSts } from './checks/mta-sts/index.js';
import { evaluateMx, fetchMx, isNullMx, mailHosts } from './checks/mx/index.js';
import { evaluatePtr, fetchPtr } from './checks/ptr/index.js';
import { evaluateSpf, fetchSpf } from './checks/spf/index.js';
import { evaluateTlsRpt, fetchTlsRpt } from './checks/tls-rpt/index.js';
import { AuditDns, type DnsClient, failed, type LookupRecord } from './dns/audit-dns.js';
import { normalizeDomain } from './domain-name.js';
import { dedupe, finding } from './findings.js';
import { isPublicAddress } from './net/address.js';
import { type Connector, netConnector } from './net/connect.js';
import { GuardedHttpClient, type HttpClient } from './net/http.js';
import { TrustStore } from './net/trust.js';
import { fetchDane } from './probes/dane.js';
import { evaluateIpv6Reachability, evaluateTransport, transportEvidence } from './probes/evaluate.js';
import { AddressLimiter, ProbeCache } from './probes/limits.js';
import { discoverAccessHosts, planTargets } from './probes/plan.js';
import { runProbes } from './probes/run.js';
import { type CategoryInput, SCORING_VERSION, score } from './scoring.js';
import { CATEGORY_IDS, type CategoryId, type Finding, type Report, SEVERITY_RANK } from './types.js';

export interface AuditOptions {
  /** DKIM selectors to look up. @default COMMON_SELECTORS */
  dkimSelectors?: string[];
  /** DNSBL zones for mail host addresses. @default DEFAULT_IP_BLOCKLISTS */
  ipBlocklists?: string[];
  /** DNSBL zones for the domain. @default DEFAULT_DOMAIN_BLOCKLISTS */
  domainBlocklists?: string[];
  /** Treat loopback/private/reserved addresses like public ones. @default false */
  allowPrivateTargets?: boolean;
  /** Connect to mail hosts and fetch HTTPS policies. @default true */
  probes?: boolean;
  /** Deadline of the whole audit. @default 60000 */
  timeoutMs?: number;
  /** More mail-access hosts to probe on IMAP and POP3 (a provider's shared mailbox server). @default [] */
  extraHosts?: string[];
}

export interface AuditDeps {
  dns: DnsClient;
  /** The clock; the only source of "now" in the engine. */
  now: () => Date;
  /** Opens TCP connections for probes (after the guard). @default netConnector */
  connector?: Connector;
  /** Trust anchors for certificates: the system's plus --ca-file. @default new TrustStore() */
  trust?: TrustStore;
  /** HTTPS requests (the MTA-STS policy), resolving through the audit's DNS. @default a GuardedHttpClient on `trust` and `connector` */
  http?: HttpClient;
  /** Connections per target address, shared by concurrent audits. @default a process-wide limiter of 4 */
  limiter?: AddressLimiter;
  /** Name given in EHLO. @default 'mailaudit.invalid' */
  ehloName?: string;
  /** Probe results shared between audits for five minutes; `null` for none. @default a process-wide cache */
  probeCache?: ProbeCache | null;
}

const sharedLimiter = new AddressLimiter(4);
const sharedProbeCache = new ProbeCache();
let defaultTrust: TrustStore | undefined;

/** The system's trust anchors, loaded once per process on first use. */
function systemTrust(): TrustStore {
  if (!defaultTrust) defaultTrust = new TrustStore();
  return defaultTrust;
}

function lookupFailures(failures: LookupRecord[]): Finding[] {
  const byName = new Map<string, LookupRecord[]>();
  for (const f of failures) byName.set(f.name, [...(byName.get(f.name) ?? []), f]);
  return [...byName].map(([name, list]) => {
    const first = list[0] as LookupRecord;
    const types = [...new Set(list.map((l) => l.type))];
    return finding(
      'dns.lookup_failed',
      name,
      `The lookup of ${name} ${types.join('/')} failed (${first.detail ?? first.status}); what it would have shown is unknown, not missing.`,
      { name, type: first.type, types, status: first.status },
      { category: first.category },
    );
  });
}

function sortFindings(findings: Finding[]): Finding[] {
  return findings.sort(
    (a, b) =>
      SEVERITY_RANK[a.severity] - SEVERITY_RANK[b.severity] ||
      CATEGORY_IDS.indexOf(a.category) - CATEGORY_IDS.indexOf(b.category) ||
      a.code.localeCompare(b.code) ||
      a.subject.localeCompare(b.subject),
  );
}

/** Audits one domain. Throws InvalidDomainError for a name that is not a domain; DNS trouble is reported, not thrown. */
export async function auditDomain(name: string, options: AuditOptions, deps: AuditDeps): Promise<Report> {
  const domain = normalizeDomain(name);
  const started = deps.now();
  const timeoutMs = options.timeoutMs ?? 60_000;
  const dns = new AuditDns(deps.dns, { at: started.getTime() + timeoutMs, now: () => deps.now().getTime() });
  const allowPrivateTargets = options.allowPrivateTargets ?? false;
  const probes = options.probes ?? true;
  const ipLists = options.ipBlocklists ?? DEFAULT_IP_BLOCKLISTS;
  const domainLists = options.domainBlocklists ?? DEFAULT_DOMAIN_BLOCKLISTS;
  const selectors = options.dkimSelectors?.length ? options.dkimSelectors : [...COMMON_SELECTORS];

  const conditions = new Map<CategoryId, CategoryInput['condition']>(CATEGORY_IDS.map((id) => [id, 'checked']));
  const evidence: Record<string, unknown> = {};
  const findings: Finding[] = [];

  const finish = (cannotReceive = false): Report => {
    for (const f of dns.failures()) if (conditions.get(f.category) === 'checked') conditions.set(f.category, 'error');
    const all = sortFindings(dedupe([...findings, ...lookupFailures(dns.failures())]));
    const scored = score(
      CATEGORY_IDS.map((id) => ({ id, condition: conditions.get(id) ?? 'checked' })),
      all,
      cannotReceive,
    );
    evidence.dns = { queries: dns.queryCount, failed: dns.failures().length };
    return {
      schema: 'mailaudit.report/1',
      domain,
      startedAt: started.toISOString(),
      durationMs: Math.max(0, deps.now().getTime() - started.getTime()),
      score: scored.score,
      grade: scored.grade,
      scoringVersion: SCORING_VERSION,
      categories: scored.categories,
      findings: all,
      evidence,
    };
  };

  // The domain itself: its MX answer also tells whether it exists.
  const mxAnswer = await dns.query('mx', domain, 'MX');
  if (mxAnswer.status === 'nxdomain') {
    findings.push(finding('domain.not_found', domain, `${domain} does not exist in DNS (NXDOMAIN).`));
    for (const id of CATEGORY_IDS) if (id !== 'domain') conditions.set(id, 'skipped');
    evidence.domain = { exists: false, validated: mxAnswer.ad };
    return finish();
  }
  if (failed(mxAnswer)) {
    // A SERVFAIL that a query with CD answers is DNSSEC validation failing (RFC 4035 3.2.2), not
    // the domain's servers: for some records only (the audit goes on without them), or for the
    // whole zone (nothing else would validate either).
    const servfail = mxAnswer.status === 'servfail' ? await diagnoseServfail(dns.for('dnssec'), domain) : undefined;
    if (!servfail || servfail.zoneWide) {
      // Every other lookup would fail the same way.
      for (const id of CATEGORY_IDS) conditions.set(id, 'error');
      evidence.domain = { exists: servfail ? true : 'unknown' };
      if (servfail) {
        const bogus = {
          domain,
          state: 'unknown' as const,
          bogus: { name: domain, type: 'MX' },
          unvalidated: servfail.unvalidated,
        };
        findings.push(...evaluateDnssec(bogus));
        evidence.dnssec = { state: 'bogus', provenAt: null, bogus: bogus.bogus, unvalidated: servfail.unvalidated };
      }
      return finish();
    }
  }
  evidence.domain = { exists: true };

  const hasMx = mxAnswer.records.length > 0 && !isNullMx(mxAnswer.records);
  const [mx, spf, dmarc, dkim, mtaSts, tlsRpt, bimi, dnssec] = await Promise.all([
    fetchMx(dns.for('mx'), domain, mxAnswer, allowPrivateTargets),
    fetchSpf(dns.for('spf'), domain, hasMx),
    fetchDmarc(dns.for('dmarc'), domain),
    fetchDkim(dns.for('dkim'), domain, selectors),
    fetchMtaSts(dns.for('mta-sts'), domain),
    fetchTlsRpt(dns.for('tls-rpt'), domain),
    fetchBimi(dns.for('bimi'), domain),
    fetchDnssec(dns.for('dnssec'), domain, mxAnswer),
  ]);
  const hosts = mailHosts(mx);
  const usable = [...new Set(hosts.flatMap((h) => h.usable))];
  const [ptr, blocklists] = await Promise.all([
    fetchPtr(dns.for('mx'), hosts),
    fetchBlocklists(dns.for('blocklist'), domain, usable, ipLists, domainLists),
  ]);
  // Probes: SMTP on the MX hosts, IMAP and POP3 on them and on the access hosts, DANE, the MTA-STS policy.
  let transport: ReturnType<typeof evaluateTransport> = [];
  if (probes) {
    const trust = deps.trust ?? systemTrust();
    const deadlineAt = started.getTime() + timeoutMs;
    const remaining = () => deadlineAt - deps.now().getTime();
    const usableAddress = (a: string) => allowPrivateTargets || isPublicAddress(a);
    const [access, dane] = await Promise.all([
      discoverAccessHosts(dns.for('transport'), domain, usableAddress, options.extraHosts ?? []),
      fetchDane(dns.for('transport'), hosts),
    ]);
    const targets = planTargets(hosts, access);
    const env = {
      connector: deps.connector ?? netConnector,
      allowPrivateTargets,
      trust,
      now: deps.now,
      remaining,
      timeouts: { connect: 5000, read: 10_000, handshake: 10_000 },
      ehloName: deps.ehloName ?? 'mailaudit.invalid',
    };
    const wantPolicy = mtaSts.state === 'found' && mtaSts.records.length === 1;
    const [results, policy] = await Promise.all([
      runProbes(
        env,
        targets,
        deps.limiter ?? sharedLimiter,
        deps.probeCache === null ? undefined : (deps.probeCache ?? sharedProbeCache),
      ),
      wantPolicy
        ? fetchStsPolicy(
            deps.http ?? new GuardedHttpClient({ trust, connector: env.connector }),
            { dns: dns.for('mta-sts'), allowPrivateTargets },
            domain,
            Math.max(1, Math.min(10_000, remaining())),
          )
        : undefined,
    ]);
    transport = [
      ...evaluateTransport(domain, results, dane),
      ...evaluateIpv6Reachability(
        hosts,
        results.map((p) => p.result),
      ),
    ];
    if (policy) {
      const mxNames = mx.implicit ? [domain] : hosts.map((h) => h.name);
      transport.push(...evaluateStsPolicy(mtaSts, policy, mxNames));
      evidence.mtaStsPolicy = {
        url: policy.url,
        state: policy.state,
        address: policy.address ?? null,
        error: policy.error ?? null,
        body: policy.body?.slice(0, 2000) ?? null,
      };
    }
    evidence.transport = { ports: transportEvidence(results), access: access.map((a) => a.name), dane };
    if (targets.length === 0) conditions.set('transport', 'skipped');
  } else {
    conditions.set('transport', 'skipped');
  }
  const bogus = await findBogus(dns.for('dnssec'), domain, dns.log);
  if (bogus[0]) {
    dnssec.bogus = { name: bogus[0].name, type: bogus[0].type };
    dnssec.unvalidated = bogus;
  }

  findings.push(
    ...evaluateMx(mx),
    ...evaluatePtr(ptr),
    ...evaluateSpf(spf),
    ...evaluateDmarc(dmarc),
    ...evaluateDkim(dkim),
    ...evaluateMtaSts(mtaSts, started),
    ...evaluateTlsRpt(tlsRpt),
    ...evaluateBimi(bimi),
    ...evaluateDnssec(dnssec),
    ...evaluateBlocklists(blocklists),
    ...transport,
  );
  if (dnssec.state === 'unknown' && !dnssec.bogus) conditions.set('dnssec', 'error');
  if (ipLists.length + domainLists.length === 0) conditions.set('blocklist', 'skipped');

  evidence.mx = {
    records: mxAnswer.records,
    hosts: hosts.map((h) => ({ name: h.name, source: h.source, preference: h.preference, addresses: h.addresses })),
  };
  evidence.ptr = ptr;
  evidence.spf = {
    record: spf.root.text ?? null,
    lookups: spf.lookups,
    voidLookups: spf.voidLookups,
    voidTerms: spf.voidTerms,
  };
  evidence.dmarc = {
    name: dmarc.recordName,
    record: dmarc.text ?? null,
    inherited: dmarc.inherited,
    external: dmarc.external,
  };
  evidence.dkim = {
    selectorsTried: selectors.length,
    keys: dkim.keys.map((k) => ({
      selector: k.selector,
      keyType: k.keyType,
      bits: k.bits,
      testing: k.testing,
      revoked: k.revoked,
    })),
  };
  evidence.mtaSts = { records: mtaSts.records, id: mtaSts.id ?? null };
  evidence.tlsRpt = { records: tlsRpt.records };
  evidence.bimi = { records: bimi.records };
  evidence.dnssec = {
    state: dnssec.bogus ? 'bogus' : dnssec.state,
    provenAt: dnssec.provenAt ?? null,
    bogus: dnssec.bogus ?? null,
    unvalidated: dnssec.unvalidated ?? [],
  };
  evidence.blocklists = blocklists.filter((b) => b.state !== 'clear');
  evidence.blocklistsAsked = { ip: ipLists, domain: domainLists };

  // No MX target anyone could deliver to: no address at all, or (without --allow-private-targets)
  // only non-public ones. A target whose lookup failed is not counted as undeliverable.
  const unknownTarget = mx.targets.some((t) => t.lookups.some(failed));
  const cannotReceive = mx.targets.length > 0 && !unknownTarget && hosts.every((h) => h.usable.length === 0);
  return finish(cannotReceive);
}
