/**
 * `mailaudit worker`: consumes audit jobs with the configured concurrency. A job whose worker died
 * is taken over once its lock expires (BullMQ stalled jobs); the store keeps one report per audit.
 * A sweeper queues again audits accepted but left unfinished (a Redis that lost its data loses no
 * audit). SIGTERM: stop taking jobs, finish the running ones, exit.
 */

import type { Config } from '@mailaudit/config';
import {
  AUDIT_JOB_OPTIONS,
  AUDIT_QUEUE,
  type AuditJob,
  auditQueue,
  recordAuditOutcome,
  scheduleNightly,
  TASK_QUEUE,
  type TaskJob,
  workerConnection,
} from '@mailaudit/queue';
import { allSettings, failAudit, staleAudits, touchAudit } from '@mailaudit/store';
import { type Job, UnrecoverableError, Worker } from 'bullmq';
import { createWorkerContext, type WorkerContext } from './context.js';
import { processAudit } from './processors/audit.js';
import { finishNightly, runNightly } from './processors/nightly.js';
import { deliverWebhook, sendEmail } from './processors/notify.js';

export interface RunningWorker {
  ctx: WorkerContext;
  close(): Promise<void>;
}

type Log = (level: 'info' | 'warn' | 'error', msg: string, extra?: Record<string, unknown>) => void;

export function makeLog(level: string): Log {
  return (lvl, msg, extra = {}) => {
    if (level === 'silent' || (level === 'error' && lvl !== 'error') || (level === 'warn' && lvl === 'info')) return;
    process.stderr.write(`${JSON.stringify({ time: new Date().toISOString(), level: lvl, msg, ...extra })}\n`);
  };
}

export async function startWorker(config: Config, ctx = createWorkerContext(config)): Promise<RunningWorker> {
  const log = makeLog(config.logLevel);
  const connection = workerConnection(config.redisUrl);
  connection.on('error', () => {});
  const worker = new Worker<AuditJob, string>(AUDIT_QUEUE, (job) => processAudit(ctx, job), {
    connection,
    prefix: config.redisPrefix,
    concurrency: config.concurrency,
    lockDuration: config.lockMs,
    stalledInterval: Math.max(500, Math.floor(config.lockMs / 2)),
    maxStalledCount: 2,
  });
  worker.on('error', (err) => log('warn', 'worker error', { err: err.message }));
  worker.on('completed', (job: Job<AuditJob>, result) =>
    log('info', 'audit done', { auditId: job.data.auditId, result }),
  );
  worker.on('failed', async (job, err) => {
    if (!job) return;
    const final =
      err.name === 'UnrecoverableError' || job.attemptsMade >= (job.opts.attempts ?? AUDIT_JOB_OPTIONS.attempts);
    log(final ? 'error' : 'warn', final ? 'audit failed' : 'audit attempt failed; will retry', {
      auditId: job.data.auditId,
      attempt: job.attemptsMade,
      err: err.message,
    });
    if (final) {
      await failAudit(ctx.sql, job.data.auditId, err.message).catch(() => {});
      await recordAuditOutcome(ctx.redis, config.redisPrefix, {
        status: 'failed',
        durationMs: 0,
        dnsQueries: 0,
        probes: {},
      }).catch(() => {});
    }
  });

  const taskConnection = workerConnection(config.redisUrl);
  taskConnection.on('error', () => {});
  const tasks = new Worker<TaskJob, unknown>(
    TASK_QUEUE,
    async (job) => {
      const data = job.data;
      switch (data.kind) {
        case 'nightly':
          return (await runNightly(ctx, data))?.id ?? 'already run this night';
        case 'nightly-finish':
          return finishNightly(ctx, data.runId);
        case 'email':
          return sendEmail(ctx, job, data.emailId);
        case 'webhook':
          return deliverWebhook(ctx, job, data.deliveryId);
        default:
          throw new UnrecoverableError(`unknown task ${(data as { kind?: string }).kind}`);
      }
    },
    { connection: taskConnection, prefix: config.redisPrefix, concurrency: 8, lockDuration: config.lockMs },
  );
  tasks.on('error', (err) => log('warn', 'task worker error', { err: err.message }));
  tasks.on('failed', (job, err) =>
    log('warn', 'task failed', { kind: job?.data.kind, attempt: job?.attemptsMade, err: err.message }),
  );
  // Every tenant's nightly schedule exists (upserting is idempotent across processes).
  const settings = await allSettings(ctx.sql).catch(() => []);
  for (const t of settings)
    await scheduleNightly(ctx.tasks, t).catch((err: Error) => log('warn', 'schedule failed', { err: err.message }));

  // The sweeper: Postgres is the record of what was accepted; Redis may have lost it.
  const queue = auditQueue(ctx.redis, config.redisPrefix);
  let sweeping = false;
  const sweep = async () => {
    if (sweeping) return;
    sweeping = true;
    try {
      const stale = await staleAudits(ctx.sql, config.sweepAfterMs);
      for (const a of stale) {
        // A job still waiting or running is left alone; one that ended (failed, or completed
        // without storing a report) is replaced, since queueing an existing job id is a no-op.
        const job = await queue.getJob(a.id);
        const state = job ? await job.getState() : 'missing';
        if (job && (state === 'failed' || state === 'completed')) await job.remove();
        if (!job || state === 'failed' || state === 'completed' || state === 'unknown') {
          await queue.add('audit', { auditId: a.id }, { ...AUDIT_JOB_OPTIONS, jobId: a.id });
        }
        await touchAudit(ctx.sql, a.id);
      }
      if (stale.length) log('info', 'queued unfinished audits again', { count: stale.length });
    } catch (err) {
      log('warn', 'sweep failed', { err: (err as Error).message });
    } finally {
      sweeping = false;
    }
  };
  const timer = setInterval(sweep, config.sweepIntervalMs);
  timer.unref();
  log('info', 'worker started', { concurrency: config.concurrency, prefix: config.redisPrefix });

  return {
    ctx,
    async close() {
      clearInterval(timer);
      await Promise.all([worker.close(), tasks.close()]);
      taskConnection.disconnect();
      await queue.close().catch(() => {});
      connection.disconnect();
      await ctx.close();
    },
  };
}
