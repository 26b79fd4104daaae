/**
 * Storing audits' reports in batches: a worker running many audits at once (a night) hands each
 * finished one here, and they are written together, a few statements and one commit for up to
 * STORE_BATCH of them instead of a dozen round trips and a commit each (issue 16). Each audit's
 * job still ends only once its report has committed, so a worker killed mid-batch loses nothing:
 * its jobs are taken over and audited again, and the store keeps one report per audit.
 */
import type { Report } from '@mailaudit/engine';
import type { TaskJob } from '@mailaudit/queue';
import {
  type AuditRow,
  completeAudits,
  getSettings,
  previousConclusiveReports,
  type TenantSettings,
} from '@mailaudit/store';
import type { WorkerContext } from '../context.js';
import { queueAfterAudits, recordAfterAudit } from './after-audit.js';

/** Reports written in one transaction at most. @default 64 */
export const STORE_BATCH = 64;
/** How long a finished audit waits for others to share its transaction. @default 20 */
export const STORE_WAIT_MS = 20;

/** The batch committed, but its jobs could not all be queued (Redis away): the sweeper finishes its nights. */
export class AfterCommitError extends Error {
  override name = 'AfterCommitError';
  constructor(override readonly cause: Error) {
    super(`stored, but not queued: ${cause.message}`);
  }
}

interface Item {
  audit: AuditRow;
  report: Report;
  resolve: (reportId: string | undefined) => void;
  reject: (err: Error) => void;
}

/**
 * Stores a batch in one transaction: reports, findings, statuses, and what follows each audit
 * (change, alert, webhook deliveries); once committed, queues their jobs and the ends of the nights
 * they were the last audits of. Resolves with the new report ids by audit id (absent: stored before).
 */
export async function storeReports(
  ctx: WorkerContext,
  items: { audit: AuditRow; report: Report }[],
): Promise<Map<string, string>> {
  const byId = new Map(items.map((i) => [i.audit.id, i]));
  const stored = await ctx.sql.begin(async (tx) => {
    const done = await completeAudits(tx, items);
    const previous = await previousConclusiveReports(
      tx,
      [...done].filter(([auditId]) => byId.get(auditId)?.report.outcome !== 'inconclusive').map(([, d]) => d.reportId),
    );
    const settings = new Map<string, TenantSettings | undefined>();
    const jobs: TaskJob[] = [];
    for (const [auditId, d] of done) {
      const item = byId.get(auditId);
      if (!item) continue;
      const tenantId = item.audit.tenantId;
      if (!settings.has(tenantId)) settings.set(tenantId, await getSettings(tx, tenantId));
      jobs.push(
        ...(await recordAfterAudit(tx, ctx, item.audit, d.reportId, item.report, {
          settings: settings.get(tenantId),
          previous: previous.get(d.reportId),
        })),
      );
    }
    return { done, jobs };
  });
  const runIds = [...stored.done.values()].flatMap((d) => (d.runId ? [d.runId] : []));
  await queueAfterAudits(ctx, stored.jobs, runIds).catch((err: Error) => {
    throw new AfterCommitError(err);
  });
  return new Map([...stored.done].map(([auditId, d]) => [auditId, d.reportId]));
}

/**
 * Gathers finished audits for up to STORE_WAIT_MS or STORE_BATCH of them, whichever comes first,
 * and stores them together. An audit of a domain whose report is being stored waits for that
 * transaction to commit: within one transaction their order would be undefined (they share its
 * time), and in two at once the later could not see the earlier to compare with it. Should a batch
 * fail, its audits are stored one by one, so that one bad report fails its own audit only.
 */
export class ReportBatcher {
  private waiting: Item[] = [];
  private timer: NodeJS.Timeout | undefined;
  /** Tenant and domain of the audits in transactions not yet committed. */
  private readonly writing = new Set<string>();

  constructor(
    private readonly ctx: WorkerContext,
    private readonly max = STORE_BATCH,
    private readonly waitMs = STORE_WAIT_MS,
  ) {}

  /** Stores one audit's report with the others finishing now; resolves once committed with its id (undefined: stored before). */
  store(audit: AuditRow, report: Report): Promise<string | undefined> {
    return new Promise((resolve, reject) => {
      this.waiting.push({ audit, report, resolve, reject });
      if (this.waiting.length >= this.max) this.flush();
      else this.timer ??= setTimeout(() => this.flush(), this.waitMs);
    });
  }

  private flush(): void {
    clearTimeout(this.timer);
    this.timer = undefined;
    const batch: Item[] = [];
    const later: Item[] = [];
    for (const item of this.waiting) {
      const key = `${item.audit.tenantId}/${item.audit.domain}`;
      if (this.writing.has(key) || batch.length >= this.max) later.push(item);
      else {
        this.writing.add(key);
        batch.push(item);
      }
    }
    this.waiting = later;
    if (later.length >= this.max) this.timer = setTimeout(() => this.flush(), 0);
    else if (later.length > 0) this.timer = setTimeout(() => this.flush(), this.waitMs);
    if (batch.length === 0) return;
    void this.write(batch).finally(() => {
      for (const item of batch) this.writing.delete(`${item.audit.tenantId}/${item.audit.domain}`);
    });
  }

  private async write(batch: Item[]): Promise<void> {
    let stored: Map<string, string>;
    try {
      stored = await storeReports(this.ctx, batch);
    } catch (err) {
      if (batch.length === 1 || err instanceof AfterCommitError) {
        for (const item of batch) item.reject(err as Error);
        return;
      }
      // One by one: a transient failure fails each again (and each job is retried); a bad report fails alone.
      await Promise.all(batch.map((item) => this.write([item])));
      return;
    }
    for (const item of batch) item.resolve(stored.get(item.audit.id));
  }
}
