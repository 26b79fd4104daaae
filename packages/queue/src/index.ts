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
    // A Redis that accepts the connection but does not answer does not hang a request either.
    commandTimeout: 5000,
    retryStrategy: (times) => Math.min(times * 200, 2000),
    lazyConnect: false,
    ...extra,
  });
}

/**
 * Whether `err` says Redis is unreachable (ioredis: connection closed, offline queue off, retries
 * used up, a command timed out, a socket error), rather than that a command was wrong.
 */
export function isRedisUnavailable(err: unknown): boolean {
  if (!(err instanceof Error)) return false;
  const code = (err as { code?: unknown }).code;
  if (typeof code === 'string' && ['ECONNREFUSED', 'ECONNRESET', 'EPIPE', 'ETIMEDOUT', 'ENOTCONN'].includes(code))
    return true;
  // ioredis's own errors carry no code: its MaxRetriesPerRequestError by name, the rest by the
  // messages it has used since version 4 (the library offers nothing else to tell them apart).
  return (
    err.name === 'MaxRetriesPerRequestError' ||
    /^(Connection is closed\.|Stream isn't writeable|Command timed out|Reached the max retries)/.test(err.message)
  );
}

/** A connection for workers: BullMQ's blocking commands need maxRetriesPerRequest null. */
export function workerConnection(url: string, extra: RedisOptions = {}): Redis {
  return new Redis(url, {
    maxRetriesPerRequest: null,
    retryStrategy: (times) => Math.min(times * 200, 2000),
    ...extra,
  });
}

/**
 * A producer's queue. Its 'error' events are the connection's errors again: they surface where it
 * matters as failing commands (the API's 503, a worker's retried job), so they are not also thrown
 * at the process (BullMQ prints an unheard 'error' to the console).
 */
function producerQueue<T>(name: string, connection: Redis, prefix: string): Queue<T> {
  const queue = new Queue<T>(name, { connection, prefix });
  queue.on('error', () => {});
  return queue;
}

export function auditQueue(connection: Redis, prefix: string): Queue<AuditJob> {
  return producerQueue<AuditJob>(AUDIT_QUEUE, connection, prefix);
}

/** Job options of an audit: retried with backoff on transient failure; the audit id is the job id, so queueing twice is harmless. */
export const AUDIT_JOB_OPTIONS = {
  attempts: 5,
  backoff: { type: 'exponential', delay: 2000 },
  removeOnComplete: { age: 86_400, count: 10_000 },
  removeOnFail: { age: 7 * 86_400 },
} as const;

/** BullMQ's largest priority (2^21). */
export const MAX_PRIORITY = 2_097_152;

/**
 * The priority of a tenant's audit: its rank among that tenant's audits waiting or running (1 for
 * the first). BullMQ takes the lowest priority first, so every tenant's first waiting audit goes
 * before anyone's second, and so on: one tenant's 3,000 queued audits delay another's single audit
 * by at most one audit per worker slot, not by 3,000 (fair scheduling between tenants by rank).
 */
export function fairPriority(backlog: number, i: number): number {
  return Math.min(MAX_PRIORITY, backlog + i + 1);
}

/**
 * Queues audits; `delayMs` (by position) spreads a nightly cycle over its window; `backlog` is how
 * many audits the tenant already has waiting or running (the jobs' ranks follow it).
 */
export async function enqueueAudits(
  queue: Queue<AuditJob>,
  auditIds: string[],
  delayMs?: (i: number) => number,
  backlog = 0,
): Promise<void> {
  // In chunks: one addBulk is one MULTI, during which Redis serves nobody else.
  for (let start = 0; start < auditIds.length; start += ENQUEUE_CHUNK) {
    await queue.addBulk(
      auditIds.slice(start, start + ENQUEUE_CHUNK).map((auditId, j) => {
        const i = start + j;
        return {
          name: 'audit',
          data: { auditId },
          opts: {
            ...AUDIT_JOB_OPTIONS,
            jobId: auditId,
            priority: fairPriority(backlog, i),
            ...(delayMs ? { delay: delayMs(i) } : {}),
          },
        };
      }),
    );
  }
}

/** Jobs queued by one addBulk at most. @default 1000 */
export const ENQUEUE_CHUNK = 1000;

/** Nightly cycles, their end, summary emails and webhook deliveries. */
export const TASK_QUEUE = 'tasks';

export type TaskJob =
  | { kind: 'nightly'; tenantId: string; trigger: 'schedule' | 'api' | 'command'; at?: string; force?: boolean }
  /** Queued once, by the end of the night's last audit (or by the sweeper when that was lost). */
  | { kind: 'nightly-finish'; runId: string }
  | { kind: 'email'; emailId: string }
  | { kind: 'webhook'; deliveryId: string };

export function taskQueue(connection: Redis, prefix: string): Queue<TaskJob> {
  return producerQueue<TaskJob>(TASK_QUEUE, connection, prefix);
}

/** Sends and deliveries are retried with backoff: 5 s, 10 s, 20 s, 40 s, 80 s, 160 s. */
export const NOTIFY_JOB_OPTIONS = {
  attempts: 7,
  backoff: { type: 'exponential', delay: 5000 },
  removeOnComplete: { age: 86_400, count: 10_000 },
  removeOnFail: { age: 7 * 86_400 },
} as const;

export const nightEndJobId = (runId: string) => `nightly-finish-${runId}`;

/** Queues the end of a night (its summaries); the job id is the run's, so queueing it twice is harmless. */
export async function queueNightEnd(queue: Queue<TaskJob>, runId: string): Promise<void> {
  await queue.add(
    'nightly-finish',
    { kind: 'nightly-finish', runId },
    {
      jobId: nightEndJobId(runId),
      attempts: 5,
      backoff: { type: 'exponential', delay: 2000 },
      removeOnComplete: true,
      removeOnFail: { age: 7 * 86_400 },
    },
  );
}

export function nightlySchedulerId(tenantId: string): string {
  return `nightly:${tenantId}`;
}

/**
 * One BullMQ job scheduler per tenant, at its hour in its time zone: upserting it from several
 * processes keeps one schedule, and each night's run is started once (nightly_runs is unique per
 * tenant and night).
 */
export async function scheduleNightly(
  queue: Queue<TaskJob>,
  t: { id: string; nightlyHour: number; timezone: string },
): Promise<void> {
  await queue.upsertJobScheduler(
    nightlySchedulerId(t.id),
    { pattern: `0 0 ${t.nightlyHour} * * *`, tz: t.timezone },
    {
      name: 'nightly',
      data: { kind: 'nightly', tenantId: t.id, trigger: 'schedule' },
      opts: { removeOnComplete: 100, removeOnFail: 100 },
    },
  );
}

export {
  createProbeShare,
  PROBE_SHARE_MODULE,
  type ProbeShareThreadOptions,
  RedisConnectionLimiter,
  RedisProbeShare,
  type RedisProbeShareOptions,
  redisProbeShare,
  type SharedResult,
  type SharedRun,
} from './probe-share.js';
