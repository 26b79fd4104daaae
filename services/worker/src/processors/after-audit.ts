/**
 * What follows every audit, whoever asked for it (the API or a night): the change since the
 * domain's previous report, an immediate alert for a new blocklist listing, the webhook events,
 * and, for an audit of a night, the night's end once its last audit has ended.
 *
 * The records are written in the transaction that stores the report, so whoever sees an audit done
 * sees its change, alert and deliveries; the jobs that send them are queued once it committed.
 */
import type { Finding, Report } from '@mailaudit/engine';
import { NOTIFY_JOB_OPTIONS, queueNightEnd, type TaskJob } from '@mailaudit/queue';
import { diffReports, isConclusive, renderListingAlert, reportLinkToken } from '@mailaudit/render';
import {
  type AuditEnd,
  type AuditRow,
  createDelivery,
  createEmail,
  failAudit,
  getDomain,
  getSettings,
  latestConclusiveReport,
  nightEnded,
  optedOutAddresses,
  type ReportRow,
  saveChange,
  type TenantSettings,
  type Tx,
} from '@mailaudit/store';
import type { WorkerContext } from '../context.js';
import { emailOptions, localized, recipientLocale, tenantMail } from './mail.js';

/** Where a report is read: a keyless page when report links are configured, the API's URL otherwise. */
export function reportUrl(ctx: WorkerContext, domain: string, reportId: string): string {
  const secret = ctx.config.reportLinkSecret;
  if (secret) return `${ctx.config.publicUrl}/r/${reportId}?t=${reportLinkToken(secret, reportId)}`;
  return `${ctx.config.publicUrl}/v1/domains/${encodeURIComponent(domain)}/reports/${reportId}`;
}

/** A webhook delivery recorded (to be queued once committed); undefined without a webhook URL. */
async function recordWebhook(
  tx: Tx,
  ctx: WorkerContext,
  audit: AuditRow,
  url: string | null,
  event: string,
  data: Record<string, unknown>,
): Promise<TaskJob | undefined> {
  if (!url) return undefined;
  const payload = { event, createdAt: ctx.now().toISOString(), data };
  const d = await createDelivery(tx, { tenantId: audit.tenantId, runId: audit.nightlyRunId, event, url, payload });
  return { kind: 'webhook', deliveryId: d.id };
}

/**
 * In the transaction that stores an audit's report: the change since the previous report, the
 * blocklist alert and the webhook deliveries, all recorded. Returns the jobs to queue once committed.
 */
export async function recordAfterAudit(
  tx: Tx,
  ctx: WorkerContext,
  audit: AuditRow,
  reportId: string,
  report: Report,
  /** What the caller read already for a batch of audits: the tenant's settings, the report to compare with. */
  known?: { settings: TenantSettings | undefined; previous: ReportRow | undefined },
): Promise<TaskJob[]> {
  const jobs: (TaskJob | undefined)[] = [];
  const settings = known ? known.settings : await getSettings(tx, audit.tenantId);
  const webhookUrl = settings?.webhookUrl ?? null;
  // An inconclusive report is never compared, never alerts, never fires domain.changed; a
  // conclusive one is compared with the newest conclusive one before it.
  const previousReport = !isConclusive(report)
    ? undefined
    : known
      ? known.previous
      : await latestConclusiveReport(tx, audit.tenantId, audit.domain, reportId);
  let newListings: Finding[] = [];
  if (previousReport) {
    const diff = diffReports(previousReport.report, report);
    newListings = diff.newListings;
    const change = await saveChange(tx, {
      tenantId: audit.tenantId,
      domain: audit.domain,
      reportId,
      previousReportId: previousReport.id,
      nightlyRunId: audit.nightlyRunId,
      regressed: diff.regressed,
      changed: diff.different,
      diff,
    });
    if (change && diff.different) {
      jobs.push(
        await recordWebhook(tx, ctx, audit, webhookUrl, 'domain.changed', {
          domain: audit.domain,
          reportId,
          previousReportId: previousReport.id,
          gradeFrom: diff.gradeFrom,
          gradeTo: diff.gradeTo,
          scoreChange: diff.scoreChange,
          regressed: diff.regressed,
          added: diff.added.map((f) => ({ code: f.code, severity: f.severity, subject: f.subject })),
          resolved: diff.resolved.map((f) => ({ code: f.code, severity: f.severity, subject: f.subject })),
        }),
      );
    }
  }
  if (newListings.length > 0) {
    const registered = await getDomain(tx, audit.tenantId, audit.domain);
    const mail = registered?.recipients.length ? await tenantMail(ctx, tx, audit.tenantId) : undefined;
    // One alert per recipient, in their language; none to whoever unsubscribed.
    const optedOut = mail ? await optedOutAddresses(tx, audit.tenantId) : new Set<string>();
    if (registered && mail)
      for (const address of new Set(registered.recipients)) {
        if (optedOut.has(address.toLowerCase())) continue;
        const locale = recipientLocale(address, [registered.recipientLocales], mail.locale);
        const options = emailOptions(ctx, audit.tenantId, mail, address, locale);
        const alert = renderListingAlert(
          mail.tenantName,
          audit.domain,
          newListings,
          localized(reportUrl(ctx, audit.domain, reportId), locale),
          options,
        );
        const email = await createEmail(tx, {
          tenantId: audit.tenantId,
          runId: audit.nightlyRunId,
          kind: 'alert',
          recipients: [address],
          subject: alert.subject,
          textBody: alert.text,
          htmlBody: alert.html,
          listUnsubscribe: options.manageUrl,
        });
        jobs.push({ kind: 'email', emailId: email.id });
      }
  }
  jobs.push(
    await recordWebhook(tx, ctx, audit, webhookUrl, 'audit.completed', {
      auditId: audit.id,
      domain: audit.domain,
      source: audit.source,
      reportId,
      outcome: report.outcome,
      score: report.score,
      grade: report.grade,
      findings: report.findings.length,
    }),
  );
  return jobs.filter((j): j is TaskJob => j !== undefined);
}

/**
 * Once the audit's transaction committed: queues the sends and deliveries it recorded, and the end
 * of its night when no audit of that night is left. (Should this fail, the sweeper finishes the
 * night; the records stay pending in Postgres.)
 */
export async function queueAfterAudit(ctx: WorkerContext, jobs: TaskJob[], end: AuditEnd): Promise<void> {
  await queueAfterAudits(ctx, jobs, end.runId ? [end.runId] : []);
}

/** {@link queueAfterAudit} for a batch of audits: their jobs, then the end of each of their nights that has ended. */
export async function queueAfterAudits(ctx: WorkerContext, jobs: TaskJob[], runIds: Iterable<string>): Promise<void> {
  if (jobs.length > 0)
    await ctx.tasks.addBulk(jobs.map((job) => ({ name: job.kind, data: job, opts: NOTIFY_JOB_OPTIONS })));
  for (const runId of new Set(runIds)) if (await nightEnded(ctx.sql, runId)) await queueNightEnd(ctx.tasks, runId);
}

/** An audit that failed for good (its retries spent, or bad input): it ends, and counts off its night. */
export async function afterFailedAudit(ctx: WorkerContext, auditId: string, error: string): Promise<AuditEnd> {
  const end = await failAudit(ctx.sql, auditId, error);
  await queueAfterAudit(ctx, [], end);
  return end;
}
