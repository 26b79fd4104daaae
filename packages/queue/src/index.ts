/**
 * Queue names, job payloads and Redis connections shared by the API (which only produces) and the
 * worker (which only consumes). Payloads carry ids, never reports: Postgres holds the data.
 */
import { Queue } from 'bullmq';
import { Redis, type RedisOptions } from 'ioredis';

export const AUDIT_QUEUE = 'audits';

export interface AuditJob {
  auditId: string;
}

export interface RedisConfig {
  url: string;
  /** Key prefix of every queue (tests use one per file). @default 'mailaudit' */
  prefix: string;
}

/**
 * A connection for producers: commands fail at once while Redis is unreachable (so the API can
 * answer 503 instead of hanging), and reconnect in the background.
 */
export function producerConnection(url: string, extra: RedisOptions = {}): Redis {
  return new Redis(url, {
    enableOfflineQueue: false,
    maxRetriesPerRequest: 1,
    connectTimeout: 2000,
    retryStrategy: (times) => Math.min(times * 200, 2000),
    lazyConnect: false,
    ...extra,
  });
}

/** A connection for workers: BullMQ's blocking commands need maxRetriesPerRequest null. */
export function workerConnection(url: string, extra: RedisOptions = {}): Redis {
  return new Redis(url, {
    maxRetriesPerRequest: null,
    retryStrategy: (times) => Math.min(times * 200, 2000),
    ...extra,
  });
}

export function auditQueue(connection: Redis, prefix: string): Queue<AuditJob> {
  return new Queue<AuditJob>(AUDIT_QUEUE, { connection, prefix });
}

/** Job options of an audit: retried with backoff on transient failure; the audit id is the job id, so queueing twice is harmless. */
export const AUDIT_JOB_OPTIONS = {
  attempts: 5,
  backoff: { type: 'exponential', delay: 2000 },
  removeOnComplete: { age: 86_400, count: 10_000 },
  removeOnFail: { age: 7 * 86_400 },
} as const;

export async function enqueueAudits(queue: Queue<AuditJob>, auditIds: string[]): Promise<void> {
  if (auditIds.length === 0) return;
  await queue.addBulk(
    auditIds.map((auditId) => ({ name: 'audit', data: { auditId }, opts: { ...AUDIT_JOB_OPTIONS, jobId: auditId } })),
  );
}

export { type AuditOutcome, DURATION_BUCKETS, readAuditMetrics, recordAuditOutcome } from './metrics.js';
