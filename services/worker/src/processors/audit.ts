/**
 * The audit job: take the audit, run the engine, then store report, findings, status and what
 * follows every audit (after-audit.ts) in one transaction, with the other audits finishing then
 * (store-reports.ts), and queue the follow-ups. Bad input (an
 * audit that does not exist, a name that is not a domain) is unrecoverable; anything else is thrown
 * to be retried with backoff.
 */
import {
  type AuditOptions,
  COMMON_SELECTORS,
  InvalidDomainError,
  PoolAuditError,
  type Report,
} from '@mailaudit/engine';
import type { AuditJob } from '@mailaudit/queue';
import { getAudit, markRunning } from '@mailaudit/store';
import { type Job, UnrecoverableError } from 'bullmq';
import type { WorkerContext } from '../context.js';
import { afterFailedAudit } from './after-audit.js';

function probeOutcomes(report: Report): Record<string, number> {
  const ports = ((report.evidence.transport as { ports?: { state: string }[] } | undefined)?.ports ?? []) as {
    state: string;
  }[];
  const out: Record<string, number> = {};
  for (const p of ports) out[p.state] = (out[p.state] ?? 0) + 1;
  return out;
}

export async function processAudit(ctx: WorkerContext, job: Job<AuditJob>): Promise<string> {
  const { auditId } = job.data;
  if (typeof auditId !== 'string' || !/^[0-9a-f-]{36}$/.test(auditId))
    throw new UnrecoverableError('job without a valid auditId');
  const audit = await markRunning(ctx.sql, auditId);
  if (!audit) {
    const existing = await getAudit(ctx.sql, null, auditId);
    // The API and the nights queue a job after its row is committed; a row that is missing was
    // taken back (its enqueue failed). Retried with backoff, then the job ends as failed.
    if (!existing) throw new Error(`audit ${auditId} not found (yet)`);
    return `audit ${auditId} already ${existing.status}`;
  }
  const c = ctx.config;
  const options: AuditOptions = {
    allowPrivateTargets: c.allowPrivateTargets,
    timeoutMs: c.auditTimeoutMs,
  };
  // What the audit asked for, else what the tenant registered for the domain, else the configuration.
  const { registered } = audit;
  const selectors = audit.options.dkimSelectors?.length
    ? audit.options.dkimSelectors
    : registered?.dkimSelectors.length
      ? registered.dkimSelectors
      : c.dkimSelectors;
  // Selectors seen signing the domain's test messages are checked as well, whatever the list.
  const base: readonly string[] = selectors ?? COMMON_SELECTORS;
  const found = (registered?.dkimSelectorsFound ?? []).filter((s) => !base.includes(s));
  if (selectors || found.length) options.dkimSelectors = [...base, ...found];
  const extraHosts = audit.options.extraHosts?.length ? audit.options.extraHosts : registered?.extraHosts;
  if (extraHosts?.length) options.extraHosts = extraHosts;
  if (c.ipBlocklists) options.ipBlocklists = c.ipBlocklists;
  if (c.domainBlocklists) options.domainBlocklists = c.domainBlocklists;
  let report: Report;
  try {
    report = await ctx.audit(audit.domain, options);
  } catch (err) {
    if (
      err instanceof InvalidDomainError ||
      (err instanceof PoolAuditError && err.errorName === 'InvalidDomainError')
    ) {
      await afterFailedAudit(ctx, auditId, err.message);
      throw new UnrecoverableError(err.message);
    }
    throw err;
  }
  // Report, findings, status, change, alert and webhook deliveries in one transaction, shared with
  // the other audits finishing now (store-reports.ts); their jobs queued once it committed.
  const reportId = await ctx.reports.store(audit, report);
  if (report.outcome === 'inconclusive') ctx.auditMetrics.inconclusive.inc();
  const port25 = report.findings.find((f) => f.code === 'smtp.not_checked');
  ctx.auditMetrics.record({
    status: 'done',
    durationMs: report.durationMs,
    dnsQueries: (report.evidence.dns as { queries?: number } | undefined)?.queries ?? 0,
    probes: probeOutcomes(report),
    ...(port25 ? { port25NotChecked: String(port25.params.reason) } : {}),
  });
  return reportId ? `report ${reportId}` : 'report already stored';
}
