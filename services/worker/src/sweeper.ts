/**
 * The sweeper: Postgres is the record of what was accepted, Redis may have lost it. Every
 * SWEEP_INTERVAL_MS each worker queues again the audits left queued or running and untouched for
 * SWEEP_AFTER_MS whose job is gone or ended, gives up on an audit taken MAX_TAKES times without
 * ending (it fails, so that its night still ends), and finishes the nights whose audits have all
 * ended but whose end was lost with a worker or with Redis.
 */
import { AUDIT_JOB_OPTIONS, nightEndJobId, queueNightEnd } from '@mailaudit/queue';
import { endedRuns, staleAudits, touchAudit } from '@mailaudit/store';
import type { WorkerContext } from './context.js';
import { afterFailedAudit } from './processors/after-audit.js';

/**
 * Takes of one audit (each attempt of each of its jobs counts) after which the sweeper stops
 * queueing it again: an audit that kills or stalls every worker taking it would otherwise come back
 * forever, and its night would never end. BullMQ gives one job 5 attempts.
 */
export const MAX_TAKES = 10;

export interface SweepResult {
  requeued: number;
  givenUp: number;
  nightsEnded: number;
}

export async function sweep(ctx: WorkerContext): Promise<SweepResult> {
  const result: SweepResult = { requeued: 0, givenUp: 0, nightsEnded: 0 };
  for (const a of await staleAudits(ctx.sql, ctx.config.sweepAfterMs)) {
    // A job still waiting or running is left alone; one that ended (failed, or completed without
    // storing a report) is replaced, since queueing an existing job id is a no-op.
    const job = await ctx.audits.getJob(a.id);
    const state = job ? await job.getState() : 'missing';
    const lost = !job || state === 'failed' || state === 'completed' || state === 'unknown';
    if (lost && a.attempts >= MAX_TAKES) {
      if (job) await job.remove();
      await afterFailedAudit(ctx, a.id, `given up: taken ${a.attempts} times without finishing`);
      result.givenUp++;
      continue;
    }
    if (job && (state === 'failed' || state === 'completed')) await job.remove();
    if (lost) {
      // First in line: it has waited longest (every audit job has a priority, see fairPriority).
      await ctx.audits.add('audit', { auditId: a.id }, { ...AUDIT_JOB_OPTIONS, jobId: a.id, priority: 1 });
      result.requeued++;
    }
    await touchAudit(ctx.sql, a.id);
  }
  for (const run of await endedRuns(ctx.sql)) {
    // Its end is queued again unless already waiting or running; a failed one is replaced.
    const job = await ctx.tasks.getJob(nightEndJobId(run.id));
    if (job && (await job.getState()) === 'failed') await job.remove();
    await queueNightEnd(ctx.tasks, run.id);
    result.nightsEnded++;
  }
  return result;
}
