/**
 * The worker process's composition root: sql, Redis, the resolver and what the engine needs.
 */
import { AddressLimiter, type AuditDeps, ProbeCache, Resolver, TrustStore } from '@mailaudit/engine';
import { producerConnection } from '@mailaudit/queue';
import { createSql, type Sql } from '@mailaudit/store';
import type { Redis } from 'ioredis';
import type { WorkerConfig } from './config.js';

export interface WorkerContext {
  config: WorkerConfig;
  sql: Sql;
  /** For metrics and the sweeper's enqueues (fails fast while Redis is away). */
  redis: Redis;
  auditDeps: AuditDeps;
  close(): Promise<void>;
}

export function createWorkerContext(
  config: WorkerConfig,
  overrides: Partial<Pick<WorkerContext, 'sql' | 'auditDeps'>> = {},
): WorkerContext {
  const sql =
    overrides.sql ?? createSql(config.databaseUrl, { schema: config.databaseSchema, max: config.concurrency + 4 });
  const redis = producerConnection(config.redisUrl);
  redis.on('error', () => {});
  const resolver = new Resolver({ servers: config.resolvers });
  const auditDeps: AuditDeps = overrides.auditDeps ?? {
    dns: resolver,
    now: () => new Date(),
    trust: new TrustStore(config.caFile),
    limiter: new AddressLimiter(4),
    probeCache: new ProbeCache(),
  };
  return {
    config,
    sql,
    redis,
    auditDeps,
    async close() {
      resolver.close();
      redis.disconnect();
      await sql.end({ timeout: 5 });
    },
  };
}
