/**
 * Nightly cycles: every registered domain with the schedule on is audited once a night, spread
 * over the tenant's window. The night ends when its last audit ends (done or failed: the store
 * counts them, after-audit.ts queues the end), and then each recipient address gets one summary
 * (what changed, worse first), once per night unless the run is forced.
 *
 * Outage mode: when a large share of a night's audits are inconclusive (the resolvers failed),
 * the night holds its summaries, alerts the operators once and audits those domains again later
 * in its window, with backoff; if the window ends with the resolvers still failing, the night ends
 * without customer summaries (docs/operations.md).
 */
import { createHash } from 'node:crypto';
import type { Finding } from '@mailaudit/engine';
import { enqueueAudits, NOTIFY_JOB_OPTIONS, queueNightEnd } from '@mailaudit/queue';
import { renderSummary, type SummaryDomain } from '@mailaudit/render';
import {
  changesOfRun,
  createAudits,
  createEmail,
  finishNightlyRun,
  getNightlyRun,
  getReportById,
  getSettings,
  holdNightlyRun,
  type NightlyRun,
  nightlyDomains,
  optedOutAddresses,
  type RunAudit,
  recordOperatorAlert,
  runAudits,
  setRunAudits,
  startNightlyRun,
  summariedAddresses,
} from '@mailaudit/store';
import { UnrecoverableError } from 'bullmq';
import nodemailer from 'nodemailer';
import type { WorkerContext } from '../context.js';
import { reportUrl } from './after-audit.js';
import { emailOptions, localized, recipientLocale, tenantMail } from './mail.js';

/** The tenant's local date of `at`: the key of that night's run. */
export function localNight(at: Date, timeZone: string): string {
  return new Intl.DateTimeFormat('en-CA', { timeZone, year: 'numeric', month: '2-digit', day: '2-digit' }).format(at);
}

/** A stable place in the window for each domain, so that a tenant's audits do not start in the same second. */
function spread(domain: string, windowMs: number): number {
  if (windowMs <= 0) return 0;
  return createHash('sha256').update(domain).digest().readUInt32BE(0) % windowMs;
}

/**
 * Starts a night: the run and its audits in one transaction, then their jobs (what Redis cannot
 * take then, the sweeper queues later). Returns the run as started, or undefined when
 * that night's run was already started by someone else.
 */
export async function runNightly(
  ctx: WorkerContext,
  job: { tenantId: string; trigger: NightlyRun['trigger']; at?: string; force?: boolean },
): Promise<NightlyRun | undefined> {
  const settings = await getSettings(ctx.sql, job.tenantId);
  if (!settings) throw new UnrecoverableError(`no tenant ${job.tenantId}`);
  const at = job.at ? new Date(job.at) : ctx.now();
  const night = localNight(at, settings.timezone);
  // Scheduled runs are one per night, however many schedulers fire; a run asked for by hand is its own.
  const runKey = job.trigger === 'schedule' ? night : `${night}/${job.trigger}/${at.toISOString()}`;
  const windowMs = job.trigger === 'schedule' ? settings.nightlyWindowMinutes * 60_000 : 0;
  const started = await ctx.sql.begin(async (tx) => {
    const run = await startNightlyRun(tx, job.tenantId, runKey, job.trigger, at, job.force === true);
    if (!run) return undefined;
    const domains = await nightlyDomains(tx, job.tenantId);
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
    return { run, audits };
  });
  if (!started) return undefined;
  // Queued once committed, so that no job precedes its row. Should Redis refuse them now, the run
  // and its audits are recorded all the same, and the sweeper queues the audits once Redis is back.
  const { audits } = started;
  await enqueueAudits(
    ctx.audits,
    audits.map((a) => a.id),
    (i) => spread(audits[i]?.domain ?? '', windowMs),
  ).catch((err: Error) =>
    ctx.log.warn({ runId: started.run.id, err: err.message }, 'night audits not queued; the sweeper will'),
  );
  // A night without audits has ended already.
  if (started.audits.length === 0) await queueNightEnd(ctx.tasks, started.run.id);
  return started.run;
}

/** The newest audit of each domain of a run (a held night audits a domain again). */
function newestByDomain(audits: RunAudit[]): Map<string, RunAudit> {
  const newest = new Map<string, RunAudit>();
  for (const a of audits) if (!newest.has(a.domain)) newest.set(a.domain, a);
  return newest;
}

/** Whether a night's inconclusive audits are too many to send anything (OUTAGE_* settings). */
export function isOutage(ctx: WorkerContext, inconclusive: number, total: number): boolean {
  const c = ctx.config;
  return inconclusive >= c.outageMinAudits && inconclusive * 100 >= total * c.outageSharePercent;
}

/**
 * The operators' alert of a resolver outage, once per night whoever notices it (several tenants'
 * nights, several workers): an error log line, the metric and, if configured, an email.
 */
async function alertOperators(ctx: WorkerContext, run: NightlyRun, inconclusive: number, total: number) {
  const night = run.runKey.slice(0, 10);
  const control = await ctx.health.check().catch(() => undefined);
  const failing = control?.failing ?? ctx.health.servers;
  const detail = { night, runId: run.id, tenantId: run.tenantId, inconclusive, total, failing };
  if (!(await recordOperatorAlert(ctx.sql, `resolver-outage/${night}`, 'resolver-outage', detail))) return;
  ctx.auditMetrics.outages.inc();
  ctx.log.error(
    detail,
    `resolver outage: ${inconclusive} of ${total} audits of night ${night} inconclusive; resolvers not answering: ${failing.join(', ')}`,
  );
  if (!ctx.config.operatorEmail || !ctx.config.smtpUrl) return;
  const transport = nodemailer.createTransport({
    url: ctx.config.smtpUrl,
    connectionTimeout: 10_000,
    socketTimeout: 30_000,
  });
  try {
    await transport.sendMail({
      from: ctx.config.mailFrom,
      to: ctx.config.operatorEmail,
      subject: `mailaudit operator alert: resolver outage, night ${night}`,
      text: [
        `${inconclusive} of ${total} audits of night ${night} were inconclusive: the resolvers did not answer the control query.`,
        `Resolvers not answering: ${failing.join(', ')}.`,
        '',
        'The night holds its customer summaries and audits those domains again within its retry window;',
        'if the resolvers still fail at its end, no customer summary is sent. See docs/operations.md, outage mode.',
        '',
      ].join('\n'),
    });
  } catch (err) {
    ctx.log.error({ err: (err as Error).message }, 'the operator alert email could not be sent');
  } finally {
    transport.close();
  }
}

/**
 * Holds a night whose audits were largely inconclusive: its inconclusive domains are audited
 * again after a backoff, if that still falls within the night's retry window. Returns false when
 * the window is spent.
 */
async function holdNight(ctx: WorkerContext, run: NightlyRun, domains: string[]): Promise<boolean> {
  const c = ctx.config;
  const delay = c.nightRetryBackoffMs * 2 ** run.retries;
  const at = ctx.now();
  if (at.getTime() + delay > run.startedAt.getTime() + c.nightRetryWindowMs) return false;
  const registered = new Map((await nightlyDomains(ctx.sql, run.tenantId)).map((d) => [d.domain, d]));
  await ctx.sql.begin(async (tx) => {
    const audits = await createAudits(
      tx,
      run.tenantId,
      domains.map((domain) => {
        const selectors = registered.get(domain)?.dkimSelectors ?? [];
        return { domain, options: selectors.length ? { dkimSelectors: selectors } : {} };
      }),
      'nightly',
      run.id,
    );
    await holdNightlyRun(tx, run.id, audits.length, at);
    await enqueueAudits(
      ctx.audits,
      audits.map((a) => a.id),
      () => delay,
    );
  });
  ctx.log.warn({ runId: run.id, retry: run.retries + 1, delayMs: delay, domains: domains.length }, 'night held');
  return true;
}

/**
 * The end of a night, once its last audit ended. In outage mode the night is held (its
 * inconclusive audits retried) or, its window spent, closed without summaries. Otherwise the
 * summaries, one per recipient address and night, are recorded with the run's end in one
 * transaction (whoever sees the run done sees its emails), and sent.
 */
export async function finishNightly(ctx: WorkerContext, runId: string): Promise<string> {
  const run = await getNightlyRun(ctx.sql, runId);
  if (!run) return 'no such run';
  if (run.status === 'done') return 'already done';
  if (run.pending > 0) return `not ended: ${run.pending} audits to go`;
  const settings = await getSettings(ctx.sql, run.tenantId);
  if (!settings) return 'no tenant';
  const newest = newestByDomain(await runAudits(ctx.sql, runId));
  const unchecked = [...newest.values()].filter((a) => a.outcome === 'inconclusive').map((a) => a.domain);
  let silent = false;
  if (isOutage(ctx, unchecked.length, newest.size)) {
    await alertOperators(ctx, run, unchecked.length, newest.size);
    if (await holdNight(ctx, run, unchecked)) {
      ctx.auditMetrics.heldNights.inc();
      return `held: ${unchecked.length} of ${newest.size} audits inconclusive, retrying`;
    }
    // The window is spent and the resolvers still fail: nothing false goes to customers.
    silent = true;
    ctx.log.error(
      { runId, night: run.runKey.slice(0, 10), inconclusive: unchecked.length },
      'resolver outage: the night ends without customer summaries',
    );
  }
  if (run.heldSince) ctx.auditMetrics.heldNights.dec();

  const changes = new Map((await changesOfRun(ctx.sql, runId)).map((c) => [c.domain, c]));
  const domains = await nightlyDomains(ctx.sql, run.tenantId);
  const night = run.runKey.slice(0, 10);
  // One summary per address: the domains it receives summaries of, and the languages its domains give it.
  const byAddress = new Map<string, SummaryDomain[]>();
  const localesOf = new Map<string, Record<string, string>[]>();
  for (const d of domains) {
    if (d.recipients.length === 0) continue;
    const audit = newest.get(d.domain);
    if (!audit) continue;
    const entry = await summaryEntry(ctx, d.domain, audit, changes.get(d.domain));
    for (const address of new Set(d.recipients)) {
      byAddress.set(address, [...(byAddress.get(address) ?? []), entry]);
      localesOf.set(address, [...(localesOf.get(address) ?? []), d.recipientLocales]);
    }
  }
  const mail = await tenantMail(ctx, ctx.sql, run.tenantId);
  if (!mail) return 'no tenant';
  // The run is done together with its summaries recorded: whoever sees it done sees its emails.
  const toSend = await ctx.sql.begin(async (tx) => {
    if (!(await finishNightlyRun(tx, runId, ctx.now()))) return [];
    if (silent) return [];
    // A night mails each address once, however many times it is run, unless the run is forced.
    const already = run.force ? new Set<string>() : await summariedAddresses(tx, run.tenantId, night);
    // Whoever unsubscribed (one click, RFC 8058) gets nothing, forced runs included.
    const optedOut = await optedOutAddresses(tx, run.tenantId);
    const ids: string[] = [];
    for (const [address, entries] of byAddress) {
      if (already.has(address) || optedOut.has(address.toLowerCase())) continue;
      const locale = recipientLocale(address, localesOf.get(address) ?? [], settings.locale);
      const options = emailOptions(ctx, run.tenantId, mail, address, locale);
      const s = renderSummary(
        mail.tenantName,
        night,
        entries.map((e) => ({ ...e, reportUrl: localized(e.reportUrl, locale) })),
        options,
      );
      const skip = settings.summarySkipUnchanged && !s.changed;
      const email = await createEmail(tx, {
        tenantId: run.tenantId,
        runId,
        kind: 'summary',
        recipients: [address],
        subject: s.subject,
        textBody: s.text,
        htmlBody: s.html,
        status: skip ? 'skipped' : 'pending',
        night,
        listUnsubscribe: options.manageUrl,
      });
      if (!skip) ids.push(email.id);
    }
    return ids;
  });
  for (const emailId of toSend) await ctx.tasks.add('email', { kind: 'email', emailId }, NOTIFY_JOB_OPTIONS);
  return silent ? 'done, held summaries dropped: the resolvers still fail' : `done, ${toSend.length} summaries to send`;
}

/** What a summary says of one domain tonight: its report, the change since the last conclusive one. */
async function summaryEntry(
  ctx: WorkerContext,
  domain: string,
  audit: RunAudit,
  change: { diff: SummaryDomain['diff'] } | undefined,
): Promise<SummaryDomain> {
  const row = audit.reportId ? await getReportById(ctx.sql, audit.reportId) : undefined;
  const base = {
    domain,
    reportUrl: row ? reportUrl(ctx, domain, row.id) : `${ctx.config.publicUrl}/v1/domains/${domain}/reports`,
  };
  if (!row || row.score === null) {
    return {
      ...base,
      grade: null,
      score: null,
      scoreChange: null,
      previousGrade: null,
      diff: null,
      ...(audit.status === 'failed' ? { failed: audit.error ?? 'unknown error' } : { unchecked: true }),
    };
  }
  const diff = change?.diff ?? null;
  return {
    ...base,
    grade: row.grade,
    score: row.score,
    scoreChange: diff ? diff.scoreChange : null,
    previousGrade: diff ? diff.gradeFrom : null,
    diff,
    findings: row.report.findings as Finding[],
  };
}
