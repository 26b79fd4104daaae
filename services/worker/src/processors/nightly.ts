/**
 * Nightly cycles: every registered domain with the schedule on is audited once a night, spread
 * over the tenant's window. The night ends when its last audit ends (done or failed: the store
 * counts them, after-audit.ts queues the end), and then each recipient list gets one summary (what
 * changed, regressions first).
 */
import { createHash } from 'node:crypto';
import { enqueueAudits, NOTIFY_JOB_OPTIONS, queueNightEnd } from '@mailaudit/queue';
import { renderSummary, type SummaryDomain } from '@mailaudit/render';
import {
  changesOfRun,
  createAudits,
  createEmail,
  finishNightlyRun,
  getNightlyRun,
  getSettings,
  latestReports,
  type NightlyRun,
  nightlyDomains,
  runAudits,
  setRunAudits,
  startNightlyRun,
} from '@mailaudit/store';
import { UnrecoverableError } from 'bullmq';
import type { WorkerContext } from '../context.js';
import { reportUrl } from './after-audit.js';

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
  job: { tenantId: string; trigger: NightlyRun['trigger']; at?: string },
): Promise<NightlyRun | undefined> {
  const settings = await getSettings(ctx.sql, job.tenantId);
  if (!settings) throw new UnrecoverableError(`no tenant ${job.tenantId}`);
  const at = job.at ? new Date(job.at) : ctx.now();
  const night = localNight(at, settings.timezone);
  // Scheduled runs are one per night, however many schedulers fire; a run asked for by hand is its own.
  const runKey = job.trigger === 'schedule' ? night : `${night}/${job.trigger}/${at.toISOString()}`;
  const windowMs = job.trigger === 'schedule' ? settings.nightlyWindowMinutes * 60_000 : 0;
  const started = await ctx.sql.begin(async (tx) => {
    const run = await startNightlyRun(tx, job.tenantId, runKey, job.trigger, at);
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

/**
 * The end of a night, once its last audit ended: the summaries, one per recipient list, recorded
 * with the run's end in one transaction (whoever sees the run done sees its emails), and sent.
 */
export async function finishNightly(ctx: WorkerContext, runId: string): Promise<string> {
  const run = await getNightlyRun(ctx.sql, runId);
  if (!run) return 'no such run';
  if (run.status === 'done') return 'already done';
  if (run.pending > 0) return `not ended: ${run.pending} audits to go`;
  const audits = await runAudits(ctx.sql, runId);
  const settings = await getSettings(ctx.sql, run.tenantId);
  if (!settings) return 'no tenant';
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
  return `done, ${toSend.length} summaries to send`;
}
