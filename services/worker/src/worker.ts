/**
 * `mailaudit worker`: consumes audit jobs with the configured concurrency, and the tasks (nights,
 * their ends, emails, webhooks). A job whose worker died is taken over once its lock expires
 * (BullMQ stalled jobs); the store keeps one report per audit. The sweeper (sweeper.ts) queues again
 * what Redis lost. SIGTERM: stop taking jobs, finish the running ones, exit.
 */

import type { Config } from '@mailaudit/config';
import {
  AUDIT_JOB_OPTIONS,
  AUDIT_QUEUE,
  type AuditJob,
  scheduleNightly,
  TASK_QUEUE,
  type TaskJob,
  workerConnection,
} from '@mailaudit/queue';
import { allSettings } from '@mailaudit/store';
import { type Job, UnrecoverableError, Worker } from 'bullmq';
import { createWorkerContext, type WorkerContext } from './context.js';
import { type MetricsServer, serveMetrics } from './metrics-server.js';
import { afterFailedAudit } from './processors/after-audit.js';
import { processAudit } from './processors/audit.js';
import { finishNightly, runNightly } from './processors/nightly.js';
import { deliverWebhook, sendEmail } from './processors/notify.js';
import { sweep } from './sweeper.js';

export interface RunningWorker {
  ctx: WorkerContext;
  /** Where its /metrics are served (with METRICS_PORT). */
  metricsUrl?: string;
  close(): Promise<void>;
}

export async function startWorker(config: Config, ctx = createWorkerContext(config)): Promise<RunningWorker> {
  const { log } = ctx;
  // First, so that a port already taken stops the worker before it takes any job.
  let metrics: MetricsServer | undefined;
  if (config.metricsPort !== undefined)
    metrics = await serveMetrics(ctx.metrics, config.metricsHost, config.metricsPort);
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
  worker.on('error', (err) => log.warn({ err: err.message }, 'worker error'));
  worker.on('completed', (job: Job<AuditJob>, result) => log.info({ auditId: job.data.auditId, result }, 'audit done'));
  worker.on('failed', async (job, err) => {
    if (!job) return;
    const final =
      err.name === 'UnrecoverableError' || job.attemptsMade >= (job.opts.attempts ?? AUDIT_JOB_OPTIONS.attempts);
    const fields = { auditId: job.data.auditId, attempt: job.attemptsMade, err: err.message };
    if (!final) return log.warn(fields, 'audit attempt failed; will retry');
    log.error(fields, 'audit failed');
    ctx.auditMetrics.record({ status: 'failed', durationMs: 0, dnsQueries: 0, probes: {} });
    // Its end counts off its night; should Postgres be away now, the sweeper catches up later.
    await afterFailedAudit(ctx, job.data.auditId, err.message).catch((e: Error) =>
      log.warn({ auditId: job.data.auditId, err: e }, 'could not record the failed audit; the sweeper will'),
    );
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
  tasks.on('error', (err) => log.warn({ err: err.message }, 'task worker error'));
  tasks.on('failed', (job, err) =>
    log.warn({ kind: job?.data.kind, attempt: job?.attemptsMade, err: err.message }, 'task failed'),
  );
  // Every tenant's nightly schedule exists (upserting is idempotent across processes).
  const settings = await allSettings(ctx.sql).catch(() => []);
  for (const t of settings)
    await scheduleNightly(ctx.tasks, t).catch((err: Error) => log.warn({ tenantId: t.id, err }, 'schedule failed'));

  // The sweep under way, if any: close() waits for it, so that a SIGTERM in the middle of one does
  // not cut its Redis and Postgres connections under it (it logged "sweep failed: Connection is
  // closed" at every stop that met one).
  let sweeping: Promise<void> | undefined;
  const sweepNow = (): void => {
    if (sweeping) return;
    sweeping = (async () => {
      try {
        const r = await sweep(ctx);
        if (r.requeued || r.givenUp || r.nightsEnded) log.info(r, 'swept');
      } catch (err) {
        log.warn({ err }, 'sweep failed');
      } finally {
        sweeping = undefined;
      }
    })();
  };
  const timer = setInterval(sweepNow, config.sweepIntervalMs);
  timer.unref();
  log.info({ concurrency: config.concurrency, prefix: config.redisPrefix, metrics: metrics?.url }, 'worker started');

  return {
    ctx,
    ...(metrics ? { metricsUrl: metrics.url } : {}),
    async close() {
      log.info('worker stopping: finishing the running jobs');
      clearInterval(timer);
      await metrics?.close();
      await Promise.all([worker.close(), tasks.close(), sweeping]);
      taskConnection.disconnect();
      connection.disconnect();
      await ctx.close();
      log.info('worker stopped');
    },
  };
}
