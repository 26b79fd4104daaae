/**
 * Nightly cycles: every registered domain with the schedule on is audited once a night, spread
 * over the tenant's window; when all audits of the night are finished, each recipient list gets
 * one summary (what changed, regressions first). After every audit: the diff with the domain's
 * previous report, an immediate alert for a new blocklist listing, and webhook events.
 */
import { createHash } from 'node:crypto';
import type { Finding, Report } from '@mailaudit/engine';
import { enqueueAudits, NOTIFY_JOB_OPTIONS, type TaskJob } from '@mailaudit/queue';
import { diffReports, renderListingAlert, renderSummary, reportLinkToken, type SummaryDomain } from '@mailaudit/render';
import {
  type AuditRow,
  changesOfRun,
  createAudits,
  createDelivery,
  createEmail,
  finishNightlyRun,
  getDomain,
  getNightlyRun,
  getSettings,
  latestReports,
  type NightlyRun,
  nightlyDomains,
  runAudits,
  saveChange,
  setRunAudits,
  startNightlyRun,
  type Tx,
} from '@mailaudit/store';
import { UnrecoverableError } from 'bullmq';
import type { WorkerContext } from '../context.js';

/** The tenant's local date of `at`: the key of that night's run. */
export function localNight(at: Date, timeZone: string): string {
  return new Intl.DateTimeFormat('en-CA', { timeZone, year: 'numeric', month: '2-digit', day: '2-digit' }).format(at);
}

/** A stable place in the window for each domain, so that a tenant's audits do not start in the same second. */
function spread(domain: string, windowMs: number): number {
  if (windowMs <= 0) return 0;
  return createHash('sha256').update(domain).digest().readUInt32BE(0) % windowMs;
}

/** How long a night waits for its audits before summarizing what finished. */
const FINISH_GRACE_MS = 2 * 3600_000;
const FINISH_POLL_MS = 2000;

export async function runNightly(
  ctx: WorkerContext,
  job: { tenantId: string; trigger: NightlyRun['trigger']; at?: string },
): Promise<NightlyRun | undefined> {
  const settings = await getSettings(ctx.sql, job.tenantId);
  if (!settings) throw new UnrecoverableError(`no tenant ${job.tenantId}`);
  const at = job.at ? new Date(job.at) : ctx.now();
  const night = localNight(at, settings.timezone);
  // Scheduled runs are one per night, however many schedulers fire; a run asked for by hand is its own.
  const runKey = job.trigger === 'schedule' ? night : `${night}/${job.trigger}/${at.toISOString()}`;
  const run = await startNightlyRun(ctx.sql, job.tenantId, runKey, job.trigger, at);
  if (!run) return undefined;
  const domains = await nightlyDomains(ctx.sql, job.tenantId);
  const windowMs = job.trigger === 'schedule' ? settings.nightlyWindowMinutes * 60_000 : 0;
  await ctx.sql.begin(async (tx) => {
    const audits = await createAudits(
      tx,
      job.tenantId,
      domains.map((d) => ({
        domain: d.domain,
        options: d.dkimSelectors.length ? { dkimSelectors: d.dkimSelectors } : {},
      })),
      'nightly',
      run.id,
    );
    await setRunAudits(tx, run.id, audits.length);
    await enqueueAudits(
      ctx.audits,
      audits.map((a) => a.id),
      (i) => spread(audits[i]?.domain ?? '', windowMs),
    );
  });
  await ctx.tasks.add(
    'nightly-finish',
    { kind: 'nightly-finish', runId: run.id },
    { delay: FINISH_POLL_MS, removeOnComplete: true },
  );
  return run;
}

/** Where a report is read: a keyless page when report links are configured, the API's URL otherwise. */
function reportUrl(ctx: WorkerContext, domain: string, reportId: string): string {
  const secret = ctx.config.reportLinkSecret;
  if (secret) return `${ctx.config.publicUrl}/r/${reportId}?t=${reportLinkToken(secret, reportId)}`;
  return `${ctx.config.publicUrl}/v1/domains/${encodeURIComponent(domain)}/reports/${reportId}`;
}

/** When every audit of the night has finished: the summaries, one per recipient list. Returns whether the run is done. */
export async function finishNightly(ctx: WorkerContext, runId: string): Promise<boolean> {
  const run = await getNightlyRun(ctx.sql, runId);
  if (!run || run.status === 'done') return true;
  const audits = await runAudits(ctx.sql, runId);
  const pending = audits.filter((a) => a.status === 'queued' || a.status === 'running');
  if (pending.length > 0 && ctx.now().getTime() < run.startedAt.getTime() + FINISH_GRACE_MS) {
    await ctx.tasks.add(
      'nightly-finish',
      { kind: 'nightly-finish', runId },
      { delay: FINISH_POLL_MS, removeOnComplete: true },
    );
    return false;
  }
  const settings = await getSettings(ctx.sql, run.tenantId);
  if (!settings) return true;
  const changes = new Map((await changesOfRun(ctx.sql, runId)).map((c) => [c.domain, c]));
  const domains = await nightlyDomains(ctx.sql, run.tenantId);
  const groups = new Map<string, SummaryDomain[]>();
  for (const d of domains) {
    if (d.recipients.length === 0) continue;
    const audit = audits.find((a) => a.domain === d.domain);
    if (!audit) continue;
    const [latest, previous] = await latestReports(ctx.sql, run.tenantId, d.domain, 2);
    const change = changes.get(d.domain);
    const entry: SummaryDomain = latest
      ? {
          domain: d.domain,
          grade: latest.grade,
          score: latest.score,
          scoreChange: previous ? latest.score - previous.score : null,
          previousGrade: previous?.grade ?? null,
          reportUrl: reportUrl(ctx, d.domain, latest.id),
          diff: change && previous ? change.diff : null,
        }
      : {
          domain: d.domain,
          grade: '-',
          score: 0,
          scoreChange: null,
          previousGrade: null,
          reportUrl: `${ctx.config.publicUrl}/v1/domains/${d.domain}/reports`,
          diff: null,
        };
    if (audit.status === 'failed') entry.failed = audit.error ?? 'unknown error';
    const key = [...d.recipients].sort().join(',');
    groups.set(key, [...(groups.get(key) ?? []), entry]);
  }
  // The run is done together with its summaries recorded: whoever sees it done sees its emails.
  const toSend = await ctx.sql.begin(async (tx) => {
    if (!(await finishNightlyRun(tx, runId, ctx.now()))) return [];
    const ids: string[] = [];
    for (const [key, entries] of groups) {
      const s = renderSummary(settings.name, run.runKey.slice(0, 10), entries);
      const skip = settings.summarySkipUnchanged && !s.changed;
      const email = await createEmail(tx, {
        tenantId: run.tenantId,
        runId,
        kind: 'summary',
        recipients: key.split(','),
        subject: s.subject,
        textBody: s.text,
        htmlBody: s.html,
        status: skip ? 'skipped' : 'pending',
      });
      if (!skip) ids.push(email.id);
    }
    return ids;
  });
  for (const emailId of toSend) await ctx.tasks.add('email', { kind: 'email', emailId }, NOTIFY_JOB_OPTIONS);
  return true;
}

/** A webhook delivery recorded (to be queued once committed); undefined without a webhook URL. */
async function recordWebhook(
  tx: Tx,
  ctx: WorkerContext,
  tenantId: string,
  url: string | null,
  event: string,
  data: Record<string, unknown>,
): Promise<TaskJob | undefined> {
  if (!url) return undefined;
  const payload = { event, createdAt: ctx.now().toISOString(), data };
  const d = await createDelivery(tx, { tenantId, event, url, payload });
  return { kind: 'webhook', deliveryId: d.id };
}

/**
 * In the transaction that stores an audit's report: the change since the previous report, the
 * blocklist alert and the webhook deliveries, all recorded, so that an audit seen done has them.
 * Returns the jobs to queue once committed.
 */
export async function recordAfterAudit(
  tx: Tx,
  ctx: WorkerContext,
  audit: AuditRow,
  reportId: string,
  report: Report,
): Promise<TaskJob[]> {
  const jobs: (TaskJob | undefined)[] = [];
  const [latest, previous] = await latestReports(tx, audit.tenantId, audit.domain, 2);
  const settings = await getSettings(tx, audit.tenantId);
  const webhookUrl = settings?.webhookUrl ?? null;
  const previousReport = latest?.id === reportId ? previous : latest;
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
        await recordWebhook(tx, ctx, audit.tenantId, webhookUrl, 'domain.changed', {
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
    if (registered?.recipients.length) {
      const alert = renderListingAlert(audit.domain, newListings, reportUrl(ctx, audit.domain, reportId));
      const email = await createEmail(tx, {
        tenantId: audit.tenantId,
        runId: audit.nightlyRunId,
        kind: 'alert',
        recipients: registered.recipients,
        subject: alert.subject,
        textBody: alert.text,
        htmlBody: alert.html,
      });
      jobs.push({ kind: 'email', emailId: email.id });
    }
  }
  jobs.push(
    await recordWebhook(tx, ctx, audit.tenantId, webhookUrl, 'audit.completed', {
      auditId: audit.id,
      domain: audit.domain,
      source: audit.source,
      reportId,
      score: report.score,
      grade: report.grade,
      findings: report.findings.length,
    }),
  );
  return jobs.filter((j): j is TaskJob => j !== undefined);
}

/** Queues the sends and deliveries recorded with a report. */
export async function queueNotifications(ctx: WorkerContext, jobs: TaskJob[]): Promise<void> {
  for (const job of jobs) await ctx.tasks.add(job.kind, job, NOTIFY_JOB_OPTIONS);
}
