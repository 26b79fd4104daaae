/**
 * One audit under way: its settings (the options with their defaults), its DNS view with the
 * deadline, the context each check's fetch gets, the checks' outcomes, and the
 * `mailaudit.report/1` report they make. audit.ts decides the order of the checks.
 */
import type { AuditSettings, Check, CheckCondition, CheckContext, NetContext } from './check.js';
import { DEFAULT_DOMAIN_BLOCKLISTS, DEFAULT_IP_BLOCKLISTS } from './checks/blocklists/index.js';
import { COMMON_SELECTORS } from './checks/dkim/index.js';
import { AuditDns, type DnsClient, type LookupRecord } from './dns/audit-dns.js';
import type { ControlCheck, ControlResult } from './dns/control.js';
import { dedupe, finding } from './findings.js';
import { type Connector, netConnector } from './net/connect.js';
import { GuardedHttpClient, type HttpClient } from './net/http.js';
import { TrustStore } from './net/trust.js';
import { EGRESS_CHANNEL, EgressWitness } from './probes/egress.js';
import { AddressLimiter, type ConnectionLimiter, ProbeCache } from './probes/limits.js';
import { type CategoryInput, outcomeOf, SCORING_VERSION, score } from './scoring.js';
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
  /** Connections per target address, shared by concurrent audits (and processes). @default a process-wide limiter of 4 */
  limiter?: ConnectionLimiter;
  /** Name given in EHLO. @default 'mailaudit.invalid' */
  ehloName?: string;
  /** Probe results shared between audits (and processes, with a ProbeShare) for five minutes; `null` for none. @default a process-wide cache */
  probeCache?: ProbeCache | null;
  /**
   * The port-25 connections this process saw succeed, which make a port-25 timeout the server's
   * (probes/egress.ts). @default the process's witness, shared by its threads
   */
  egress?: EgressWitness;
  /**
   * The control query of the resolvers `dns` asks (dns/control.ts `ResolverHealth.check`), asked
   * when a lookup failed: if no resolver answers it, the audit is `inconclusive`. Without it the
   * resolvers are taken to work, and failed lookups are the domain's. @default none
   */
  control?: ControlCheck;
}

const sharedLimiter = new AddressLimiter(4);
const sharedProbeCache = new ProbeCache();
let sharedEgress: EgressWitness | undefined;

/** The process's witness of port 25 (every thread's, through their channel), made on first use. */
function processEgress(): EgressWitness {
  if (!sharedEgress) sharedEgress = new EgressWitness({ channel: EGRESS_CHANNEL });
  return sharedEgress;
}
let defaultTrust: TrustStore | undefined;

/** The system's trust anchors, loaded once per process on first use. */
function systemTrust(): TrustStore {
  if (!defaultTrust) defaultTrust = new TrustStore();
  return defaultTrust;
}

/** One `dns.lookup_failed` per name that could not be looked up, in the category that asked first. */
export function lookupFailures(failures: LookupRecord[]): Finding[] {
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

/** What one check left for the report. */
interface Outcome {
  category: CategoryId;
  findings: Finding[];
  evidence: Record<string, unknown>;
  condition: CheckCondition | undefined;
}

/** One audit under way: its DNS view, the checks' outcomes, and the report they make. */
export class AuditRun {
  readonly dns: AuditDns;
  readonly settings: AuditSettings;
  private readonly net: NetContext;
  private readonly outcomes: Outcome[] = [];
  private readonly evidence: Record<string, unknown> = {};
  private readonly conditions = new Map<CategoryId, CategoryInput['condition']>(
    CATEGORY_IDS.map((id) => [id, 'checked']),
  );

  constructor(
    readonly domain: string,
    options: AuditOptions,
    private readonly deps: AuditDeps,
    readonly started: Date,
  ) {
    const deadlineAt = started.getTime() + (options.timeoutMs ?? 60_000);
    this.dns = new AuditDns(deps.dns, { at: deadlineAt, now: () => deps.now().getTime() });
    this.settings = {
      dkimSelectors: options.dkimSelectors?.length ? options.dkimSelectors : [...COMMON_SELECTORS],
      ipBlocklists: options.ipBlocklists ?? DEFAULT_IP_BLOCKLISTS,
      domainBlocklists: options.domainBlocklists ?? DEFAULT_DOMAIN_BLOCKLISTS,
      allowPrivateTargets: options.allowPrivateTargets ?? false,
      probes: options.probes ?? true,
      extraHosts: options.extraHosts ?? [],
    };
    const connector = deps.connector ?? netConnector;
    let trust = deps.trust;
    let http = deps.http;
    this.net = {
      connector,
      // Loaded on first use only: an audit without probes needs neither.
      get trust() {
        trust ??= systemTrust();
        return trust;
      },
      get http() {
        http ??= new GuardedHttpClient({ trust: this.trust, connector });
        return http;
      },
      limiter: deps.limiter ?? sharedLimiter,
      probeCache: deps.probeCache === null ? undefined : (deps.probeCache ?? sharedProbeCache),
      egress: deps.egress ?? processEgress(),
      ehloName: deps.ehloName ?? 'mailaudit.invalid',
      remaining: () => deadlineAt - deps.now().getTime(),
    };
  }

  private context(category: CategoryId): CheckContext {
    const { domain, settings, net } = this;
    return { domain, settings, net, dns: this.dns.for(category), now: this.deps.now };
  }

  /** Runs one check: fetch through its context, evaluate, keep its evidence and condition. */
  async run<Needs, Input>(check: Check<Needs, Input>, ...[needs]: Needs extends void ? [] : [Needs]): Promise<Input> {
    const outcome: Outcome = { category: check.category, findings: [], evidence: {}, condition: undefined };
    // In the order the checks started, whatever order they end in.
    this.outcomes.push(outcome);
    const input = await check.fetch(this.context(check.category), needs as Needs);
    outcome.findings = check.evaluate(input, { started: this.started });
    outcome.evidence = check.evidence(input);
    outcome.condition = check.condition?.(input);
    return input;
  }

  /** The DNS of one category, for a fetch that is part of a check run later (DNSSEC's DS walk). */
  dnsFor(category: CategoryId): DnsClient {
    return this.dns.for(category);
  }

  set(category: CategoryId, condition: CategoryInput['condition']): void {
    this.conditions.set(category, condition);
  }

  addEvidence(evidence: Record<string, unknown>): void {
    Object.assign(this.evidence, evidence);
  }

  /**
   * The report. When a lookup failed and the control query finds no resolver answering, the
   * auditing side failed: the report is `inconclusive` (no score, no grade, one finding).
   */
  async report(extra: Finding[] = [], cannotReceive = false): Promise<Report> {
    for (const o of this.outcomes) {
      if (o.condition) this.conditions.set(o.category, o.condition);
      Object.assign(this.evidence, o.evidence);
    }
    const failures = this.dns.failures();
    if (failures.length > 0 && this.deps.control) {
      const control = await this.deps.control();
      if (!control.ok) return this.inconclusive(control, failures.length);
    }
    for (const f of failures)
      if (this.conditions.get(f.category) === 'checked') this.conditions.set(f.category, 'error');
    const all = sortFindings(
      dedupe([...extra, ...this.outcomes.flatMap((o) => o.findings), ...lookupFailures(failures)]),
    );
    const scored = score(
      CATEGORY_IDS.map((id) => ({ id, condition: this.conditions.get(id) ?? 'checked' })),
      all,
      cannotReceive,
    );
    this.evidence.dns = { queries: this.dns.queryCount, failed: failures.length };
    // What the score left out, and a cap its findings do not show (every MX target unusable).
    this.evidence.scoring = { leftOut: scored.leftOut, cannotReceive };
    return {
      schema: 'mailaudit.report/1',
      domain: this.domain,
      startedAt: this.started.toISOString(),
      durationMs: Math.max(0, this.deps.now().getTime() - this.started.getTime()),
      score: scored.score,
      grade: scored.grade,
      outcome: outcomeOf(scored.categories, all),
      scoringVersion: SCORING_VERSION,
      categories: scored.categories,
      findings: all,
      evidence: this.evidence,
    };
  }

  /** No verdict: the resolvers failed the control query; nothing the audit saw is reported. */
  private inconclusive(control: ControlResult, failed: number): Report {
    const names = control.failing.join(', ');
    return {
      schema: 'mailaudit.report/1',
      domain: this.domain,
      startedAt: this.started.toISOString(),
      durationMs: Math.max(0, this.deps.now().getTime() - this.started.getTime()),
      score: null,
      grade: null,
      outcome: 'inconclusive',
      scoringVersion: SCORING_VERSION,
      categories: CATEGORY_IDS.map((id) => ({ id, score: null, status: 'error' })),
      findings: [
        finding(
          'audit.inconclusive',
          this.domain,
          `The audit could not be done: the resolver${control.failing.length > 1 ? 's' : ''} ${names} did not answer a control query any working resolver answers. Nothing is known about ${this.domain}; no verdict is given.`,
          { resolvers: control.failing },
        ),
      ],
      evidence: {
        dns: { queries: this.dns.queryCount, failed },
        control: { servers: control.servers, failing: control.failing, query: '. NS' },
      },
    };
  }
}
