/**
 * The Prometheus series of the service, all defined here (dashboards and alerts rely on their
 * names), through prom-client. Each process has its own registry (its composition root makes it;
 * an API and a worker in one process share one) and serves it: the API at /metrics, a worker on
 * METRICS_PORT. What a worker counts is its own; Prometheus adds the processes up (sum by the
 * labels), as docs/operations.md says. The API also reads two cluster-wide gauges when scraped:
 * audits stored by status (Postgres) and the audit queue's depth (Redis).
 */
import { Counter, Gauge, Histogram, Registry } from 'prom-client';

export { Registry };

/** Buckets of mailaudit_audit_duration_seconds. */
export const DURATION_BUCKETS = [0.25, 0.5, 1, 2, 5, 10, 30, 60];

export interface AuditOutcome {
  status: 'done' | 'failed';
  durationMs: number;
  dnsQueries: number;
  /** Probe results by state (open, closed, timeout, guarded, …). */
  probes: Record<string, number>;
  /** Why port 25 of the domain's mail hosts could not be checked (`smtp.not_checked`'s reason), if so. */
  port25NotChecked?: string;
}

/** The series a worker records for each audit that ends. */
export class AuditMetrics {
  private readonly finished: Counter<'status'>;
  private readonly duration: Histogram;
  private readonly dnsQueries: Counter;
  private readonly probes: Counter<'outcome'>;
  private readonly port25NotChecked: Counter<'reason'>;
  /** Audits that ended inconclusive: the resolvers failed the control query. */
  readonly inconclusive: Counter;
  /** Nights that found the resolvers failing (one alert each): the operators' outage alarm. */
  readonly outages: Counter;
  /** Nights holding their summaries while they retry inconclusive audits. */
  readonly heldNights: Gauge;

  constructor(registry: Registry) {
    const registers = [registry];
    this.finished = new Counter({
      name: 'mailaudit_audits_finished_total',
      help: 'Audits finished by workers, by outcome',
      labelNames: ['status'],
      registers,
    });
    // Both outcomes are in every scrape from the start, as zero.
    this.finished.inc({ status: 'done' }, 0);
    this.finished.inc({ status: 'failed' }, 0);
    this.duration = new Histogram({
      name: 'mailaudit_audit_duration_seconds',
      help: 'Duration of finished audits',
      buckets: DURATION_BUCKETS,
      registers,
    });
    this.dnsQueries = new Counter({
      name: 'mailaudit_dns_queries_total',
      help: 'DNS queries made by audits',
      registers,
    });
    this.probes = new Counter({
      name: 'mailaudit_probes_total',
      help: 'Mail-host probes, by outcome',
      labelNames: ['outcome'],
      registers,
    });
    this.port25NotChecked = new Counter({
      name: 'mailaudit_port25_not_checked_total',
      help: 'Audits whose port 25 could not be checked from this worker (smtp.not_checked), by reason',
      labelNames: ['reason'],
      registers,
    });
    this.inconclusive = new Counter({
      name: 'mailaudit_audits_inconclusive_total',
      help: 'Audits that ended inconclusive: the resolvers did not answer the control query',
      registers,
    });
    this.outages = new Counter({
      name: 'mailaudit_resolver_outages_total',
      help: 'Resolver outages alerted: nights whose audits were largely inconclusive (one per incident)',
      registers,
    });
    this.heldNights = new Gauge({
      name: 'mailaudit_nights_held',
      help: 'Nights of this process holding their summaries while retrying inconclusive audits',
      registers,
    });
  }

  record(o: AuditOutcome): void {
    this.finished.inc({ status: o.status });
    if (o.status === 'done') this.duration.observe(o.durationMs / 1000);
    if (o.dnsQueries > 0) this.dnsQueries.inc(o.dnsQueries);
    for (const [outcome, n] of Object.entries(o.probes)) if (n > 0) this.probes.inc({ outcome }, n);
    if (o.port25NotChecked) this.port25NotChecked.inc({ reason: o.port25NotChecked });
  }
}

const auditMetricsOf = new WeakMap<Registry, AuditMetrics>();

/** The audit series of a registry, defined once however many workers of the process use it. */
export function auditMetrics(registry: Registry): AuditMetrics {
  let m = auditMetricsOf.get(registry);
  if (!m) {
    m = new AuditMetrics(registry);
    auditMetricsOf.set(registry, m);
  }
  return m;
}

/** Where the cluster-wide gauges are read at each scrape; a source that fails leaves its gauge empty. */
export interface ClusterSources {
  /** Audits stored, by status. */
  auditCounts(): Promise<Record<string, number>>;
  /** Jobs in the audit queue, by state. */
  queueDepth(): Promise<Record<string, number>>;
}

export function registerClusterGauges(registry: Registry, sources: ClusterSources): void {
  const gauge = (name: string, help: string, label: string, read: () => Promise<Record<string, number>>) =>
    new Gauge({
      name,
      help,
      labelNames: [label],
      registers: [registry],
      async collect() {
        this.reset();
        const values = await read().catch(() => undefined);
        for (const [value, n] of Object.entries(values ?? {})) this.set({ [label]: value }, n);
      },
    });
  gauge('mailaudit_audits', 'Audits stored, by status', 'status', sources.auditCounts);
  gauge('mailaudit_queue_depth', 'Jobs in the audits queue, by state', 'state', sources.queueDepth);
}

/** Where probe results came from, as a process's probe caches count them. */
export interface ProbeSourceCounts {
  /** Probed by this process. */
  probed: number;
  /** Read from another process's probe through the shared store (Redis). */
  shared: number;
  /** Reused from this process's own cache. */
  reused: number;
}

const probeSourcesOf = new WeakMap<Registry, Set<() => Promise<ProbeSourceCounts>>>();

/**
 * `mailaudit_probe_results_total{source}`: the probe results a worker's audits used, by where they
 * came from (`probed`, `redis`, `reused`), read from `read` at each scrape (audit threads keep the
 * counts); several workers of one process add up. A source that fails is left out of that scrape.
 */
export function registerProbeSources(registry: Registry, read: () => Promise<ProbeSourceCounts>): void {
  let sources = probeSourcesOf.get(registry);
  if (!sources) {
    const all = new Set<() => Promise<ProbeSourceCounts>>();
    sources = all;
    probeSourcesOf.set(registry, all);
    new Counter({
      name: 'mailaudit_probe_results_total',
      help: 'Probe results used by audits, by source: probed here, read from another worker through Redis, reused in this process',
      labelNames: ['source'],
      registers: [registry],
      async collect() {
        const counts = await Promise.all([...all].map((r) => r().catch(() => undefined)));
        this.reset();
        for (const c of counts) {
          if (!c) continue;
          this.inc({ source: 'probed' }, c.probed);
          this.inc({ source: 'redis' }, c.shared);
          this.inc({ source: 'reused' }, c.reused);
        }
      },
    });
  }
  sources.add(read);
}
