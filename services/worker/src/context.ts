/**
 * The worker process's composition root: sql, Redis, the queues, the resolver, the trust store and
 * the guarded HTTP client (audits and webhooks share them), what else the engine needs, the logger
 * and the process's metrics registry. Tests pass overrides instead of patching modules.
 */
import { getServers } from 'node:dns';
import { availableParallelism } from 'node:os';
import { type Config, ConfigError } from '@mailaudit/config';
import {
  AddressLimiter,
  type AuditDeps,
  type AuditOptions,
  AuditPool,
  auditDomain,
  bothLimits,
  DnsCache,
  type DnsClient,
  GuardedHttpClient,
  type HttpClient,
  ProbeCache,
  type Report,
  Resolver,
  ResolverHealth,
  TrustStore,
} from '@mailaudit/engine';
import {
  type AuditJob,
  auditQueue,
  PROBE_SHARE_MODULE,
  producerConnection,
  redisProbeShare,
  type TaskJob,
  taskQueue,
} from '@mailaudit/queue';
import { createSql, type Sql } from '@mailaudit/store';
import {
  type AuditMetrics,
  auditMetrics,
  createLogger,
  type Logger,
  Registry,
  registerProbeSources,
} from '@mailaudit/telemetry';
import type { Queue } from 'bullmq';
import type { Redis } from 'ioredis';
import { ReportBatcher } from './processors/store-reports.js';

export interface WorkerContext {
  config: Config;
  sql: Sql;
  /** For metrics and the sweeper's enqueues (fails fast while Redis is away). */
  redis: Redis;
  auditDeps: AuditDeps;
  /**
   * Runs one audit: on the process's audit threads (WORKER_AUDIT_THREADS), or on this thread with
   * `auditDeps` when there is one thread or the dependencies were given (tests).
   */
  audit(domain: string, options: AuditOptions): Promise<Report>;
  /** The clock of nightly cycles and notifications (tests inject one). */
  now: () => Date;
  /** Resolves webhook hosts (the audits' resolver). */
  dns: DnsClient;
  /** The control query of the configured resolvers (an audit is inconclusive when it fails). */
  health: ResolverHealth;
  /** Guarded HTTP requests: the audits' MTA-STS policy fetches and the webhook deliveries. */
  http: HttpClient;
  tasks: Queue<TaskJob>;
  audits: Queue<AuditJob>;
  log: Logger;
  /** The process's registry (shared with the API when both run in one process). */
  metrics: Registry;
  /** The audit series, recorded into `metrics`. */
  auditMetrics: AuditMetrics;
  /** Stores finished audits' reports, several in one transaction (processors/store-reports.ts). */
  reports: ReportBatcher;
  close(): Promise<void>;
}

export function createWorkerContext(
  config: Config,
  overrides: Partial<Pick<WorkerContext, 'sql' | 'auditDeps' | 'http' | 'now' | 'log' | 'metrics'>> = {},
): WorkerContext {
  const servers = config.resolvers.length > 0 ? config.resolvers : getServers();
  if (servers.length === 0) throw new ConfigError("no resolver: set MAILAUDIT_RESOLVERS (the system's list is empty)");
  // An audit job holds a connection for a query at a time (its reports are stored in batches), so a
  // few connections serve a high WORKER_CONCURRENCY: at most 20 per worker process.
  const sql =
    overrides.sql ??
    createSql(config.databaseUrl, { schema: config.databaseSchema, max: Math.min(config.concurrency, 16) + 4 });
  const redis = producerConnection(config.redisUrl);
  redis.on('error', () => {});
  const resolver = new Resolver({ servers, transport: config.dnsTransport });
  const now = overrides.now ?? (() => new Date());
  // Real time, whatever clock the nights run on: the cache is about the resolvers now.
  const health = new ResolverHealth(servers, { now: () => Date.now(), ttlMs: config.resolverCheckTtlMs });
  const given = overrides.auditDeps;
  const trust = given?.trust ?? new TrustStore(config.caFile);
  const http =
    overrides.http ??
    given?.http ??
    new GuardedHttpClient({ trust, ...(given?.connector ? { connector: given.connector } : {}) });
  // Probe results and the per-address connection limit: shared by every worker through Redis
  // (PROBE_SHARE), or this process's own.
  const shareOptions = {
    prefix: config.redisPrefix,
    lockMs: config.probeLockMs,
    perAddress: config.probePerAddress,
  };
  const probeTtls = { ttlMs: config.probeCacheTtlMs, unknownTtlMs: config.probeCacheUnknownTtlMs };
  const shared = config.probeShare ? redisProbeShare(redis, shareOptions) : undefined;
  const localLimiter = new AddressLimiter(config.probePerAddress);
  const auditDeps: AuditDeps = given ?? {
    // One cache for every audit of the process: names a tenant's domains share are asked once.
    dns: new DnsCache(resolver, { maxEntries: config.dnsCacheMaxEntries }),
    now: () => new Date(),
    trust,
    http,
    limiter: shared ? bothLimits(localLimiter, shared.limiter) : localLimiter,
    probeCache: new ProbeCache({ ...probeTtls, ...(shared ? { share: shared.share } : {}) }),
    control: health.check,
  };
  const threads = config.auditThreads === 0 ? availableParallelism() : config.auditThreads;
  const pool =
    threads > 1 && !given
      ? new AuditPool({
          servers,
          threads,
          control: true,
          perAddress: config.probePerAddress,
          probeCache: probeTtls,
          dnsCacheEntries: config.dnsCacheMaxEntries,
          dnsTransport: config.dnsTransport,
          youngGenerationMb: config.threadYoungMb,
          ...(config.caFile ? { caFile: config.caFile } : {}),
          ...(config.probeShare
            ? { share: { module: PROBE_SHARE_MODULE, options: { url: config.redisUrl, ...shareOptions } } }
            : {}),
        })
      : undefined;
  const tasks = taskQueue(redis, config.redisPrefix);
  const audits = auditQueue(redis, config.redisPrefix);
  const metrics = overrides.metrics ?? new Registry();
  // Where the probe results came from; the threads are asked only once they run (a scrape does not start them).
  const probeCache = auditDeps.probeCache ?? undefined;
  let pooled = false;
  registerProbeSources(metrics, async () =>
    pool && pooled ? (await pool.stats()).probes : (probeCache?.stats ?? { probed: 0, shared: 0, reused: 0 }),
  );
  const ctx: WorkerContext = {
    config,
    sql,
    redis,
    auditDeps,
    audit: pool
      ? (domain, options) => {
          pooled = true;
          return pool.audit(domain, options);
        }
      : (domain, options) => auditDomain(domain, options, auditDeps),
    now,
    dns: resolver,
    health,
    http,
    tasks,
    audits,
    log: overrides.log ?? createLogger(config.logLevel, 'worker'),
    metrics,
    auditMetrics: auditMetrics(metrics),
    // Set below: the batcher stores through this context.
    reports: undefined as unknown as ReportBatcher,
    async close() {
      await tasks.close().catch(() => {});
      await audits.close().catch(() => {});
      resolver.close();
      await pool?.close();
      redis.disconnect();
      await sql.end({ timeout: 5 });
    },
  };
  ctx.reports = new ReportBatcher(ctx);
  return ctx;
}
