/**
 * The API process's composition root: one postgres.js instance, one producer Redis connection,
 * the audit queue. Tests pass overrides instead of patching modules.
 */

import type { Config } from '@mailaudit/config';
import { type AuditJob, auditQueue, producerConnection, type TaskJob, taskQueue } from '@mailaudit/queue';
import { createSql, type Sql } from '@mailaudit/store';
import type { Queue } from 'bullmq';
import type { Redis } from 'ioredis';

export interface ApiContext {
  config: Config;
  sql: Sql;
  redis: Redis;
  queue: Queue<AuditJob>;
  tasks: Queue<TaskJob>;
  close(): Promise<void>;
}

export function createContext(
  config: Config,
  overrides: Partial<Omit<ApiContext, 'config' | 'close'>> = {},
): ApiContext {
  const sql = overrides.sql ?? createSql(config.databaseUrl, { schema: config.databaseSchema });
  const redis = overrides.redis ?? producerConnection(config.redisUrl);
  redis.on('error', () => {});
  const queue = overrides.queue ?? auditQueue(redis, config.redisPrefix);
  const tasks = overrides.tasks ?? taskQueue(redis, config.redisPrefix);
  return {
    config,
    sql,
    redis,
    queue,
    tasks,
    async close() {
      await queue.close().catch(() => {});
      await tasks.close().catch(() => {});
      redis.disconnect();
      await sql.end({ timeout: 5 });
    },
  };
}
