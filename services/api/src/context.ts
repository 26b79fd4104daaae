/**
 * The API process's composition root: one postgres.js instance, one producer Redis connection,
 * the queues, the logger and the process's metrics registry (with the cluster-wide gauges read at
 * each scrape). Tests pass overrides instead of patching modules.
 */
import { getServers } from 'node:dns';
import type { Config } from '@mailaudit/config';
import { GuardedHttpClient, type HttpClient, type HttpReach, Resolver, TrustStore } from '@mailaudit/engine';
import { type AuditJob, auditQueue, producerConnection, type TaskJob, taskQueue } from '@mailaudit/queue';
import { auditCounts, createSql, type Sql } from '@mailaudit/store';
import { createLogger, type Logger, Registry, registerClusterGauges } from '@mailaudit/telemetry';
import type { Queue } from 'bullmq';
import type { Redis } from 'ioredis';
import { within } from './within.js';

export interface ApiContext {
  config: Config;
  sql: Sql;
  redis: Redis;
  queue: Queue<AuditJob>;
  tasks: Queue<TaskJob>;
  log: Logger;
  /** The process's registry: served at /metrics (a worker in the same process records into it too). */
  metrics: Registry;
  /**
   * The engine's guarded HTTP client and the DNS it resolves through, for the one request the API
   * makes itself: a tenant's logo URL (routes/branding.ts). Made on first use.
   */
  web(): { http: HttpClient; reach: HttpReach };
  close(): Promise<void>;
}

export function createContext(
  config: Config,
  overrides: Partial<Omit<ApiContext, 'config' | 'close'>> = {},
): ApiContext {
  let resolver: Resolver | undefined;
  let web: ReturnType<ApiContext['web']> | undefined;
  const sql = overrides.sql ?? createSql(config.databaseUrl, { schema: config.databaseSchema });
  const redis = overrides.redis ?? producerConnection(config.redisUrl);
  redis.on('error', () => {});
  const queue = overrides.queue ?? auditQueue(redis, config.redisPrefix);
  const tasks = overrides.tasks ?? taskQueue(redis, config.redisPrefix);
  const metrics = overrides.metrics ?? new Registry();
  // Read at most every 15 s, whoever scrapes how often: a flood of /metrics costs the stores nothing more.
  registerClusterGauges(metrics, {
    auditCounts: cachedFor(15_000, () => within(2000, auditCounts(sql))),
    queueDepth: cachedFor(15_000, () =>
      within(2000, queue.getJobCounts('waiting', 'active', 'delayed', 'failed', 'prioritized')),
    ),
  });
  return {
    config,
    sql,
    redis,
    queue,
    tasks,
    log: overrides.log ?? createLogger(config.logLevel, 'api'),
    metrics,
    web:
      overrides.web ??
      (() => {
        if (!web) {
          resolver = new Resolver({ servers: config.resolvers.length > 0 ? config.resolvers : getServers() });
          web = {
            http: new GuardedHttpClient({ trust: new TrustStore(config.caFile) }),
            reach: { dns: resolver, allowPrivateTargets: config.allowPrivateTargets },
          };
        }
        return web;
      }),
    async close() {
      resolver?.close();
      await queue.close().catch(() => {});
      await tasks.close().catch(() => {});
      redis.disconnect();
      await sql.end({ timeout: 5 });
    },
  };
}

/** `read`, called at most once per `ms` (concurrent callers share one call); a failure is not kept. */
export function cachedFor<T>(ms: number, read: () => Promise<T>): () => Promise<T> {
  let last: { at: number; value: Promise<T> } | undefined;
  return () => {
    const now = Date.now();
    if (last && now - last.at < ms) return last.value;
    const value = read();
    const entry = { at: now, value };
    last = entry;
    value.catch(() => {
      if (last === entry) last = undefined;
    });
    return value;
  };
}
