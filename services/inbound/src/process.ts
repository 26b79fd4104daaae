/**
 * What the receiver does with a message for a live test address: analyse it once per tested
 * domain (the engine's analyzeMessage, through the process's resolver), then in one transaction
 * store a message test per test address, add the selectors of the domain's passing signatures to
 * those its audits check, and record the `message.received` webhook; the delivery is queued once
 * committed. The message itself is dropped when this returns.
 */
import {
  analyzeMessage,
  type DnsClient,
  type MessageOptions,
  type MessageReport,
  selectorsFound,
} from '@mailaudit/engine';
import type { TaskJob } from '@mailaudit/queue';
import {
  addFoundSelectors,
  createDelivery,
  getSettings,
  liveTestAddress,
  type MessageTestRow,
  type Sql,
  saveMessageTest,
  type TestAddressRow,
} from '@mailaudit/store';
import type { ReceivedMessage } from './receiver.js';

export interface ProcessDeps {
  sql: Sql;
  dns: DnsClient;
  now: () => Date;
  /** Where webhook deliveries are queued for the workers (the tasks queue). */
  queueTask: (job: TaskJob) => Promise<unknown>;
  options: MessageOptions;
  /** A log line for trouble that does not fail the message (a webhook not queued). */
  warn?: (msg: string, extra: Record<string, unknown>) => void;
}

/** The best DKIM result of a message, for lists: pass if any signature passes, none when unsigned. */
export function dkimSummary(report: Pick<MessageReport, 'dkim'>): string {
  if (report.dkim.length === 0) return 'none';
  if (report.dkim.some((s) => s.result === 'pass')) return 'pass';
  return report.dkim[0]?.result ?? 'none';
}

/** The `message.received` webhook's data: enough for a panel to show the verdict. */
export function messageWebhookData(row: MessageTestRow, report: MessageReport) {
  return {
    messageTestId: row.id,
    domain: row.domain,
    receivedAt: row.receivedAt.toISOString(),
    from: report.headers.from,
    spf: report.spf.result,
    dkim: report.dkim.map((s) => ({ domain: s.domain, selector: s.selector, result: s.result })),
    dmarc: report.dmarc.result,
    arc: report.arc.result,
    findings: report.findings.map((f) => ({ code: f.code, severity: f.severity, subject: f.subject })),
    selectorsAdded: row.selectorsAdded,
  };
}

export async function isLiveAddress(deps: Pick<ProcessDeps, 'sql' | 'now'>, local: string): Promise<boolean> {
  return (await liveTestAddress(deps.sql, local, deps.now())) !== undefined;
}

export async function processMessage(deps: ProcessDeps, m: ReceivedMessage): Promise<MessageTestRow[]> {
  const now = deps.now();
  const found = await Promise.all([...new Set(m.recipients)].map((t) => liveTestAddress(deps.sql, t, now)));
  const addresses = found.filter((a): a is TestAddressRow => a !== undefined);
  // One analysis per tested domain: the domain decides message.from.other_domain and the selectors.
  const groups = new Map<string, TestAddressRow[]>();
  for (const a of addresses) {
    const key = `${a.tenantId}\u0000${a.domain}`;
    groups.set(key, [...(groups.get(key) ?? []), a]);
  }
  const stored: MessageTestRow[] = [];
  for (const group of groups.values()) {
    const { tenantId, domain } = group[0] as TestAddressRow;
    const report = await analyzeMessage(
      { message: m.message, ip: m.ip, helo: m.helo, mailFrom: m.mailFrom, tls: m.tls, domain },
      deps.options,
      { dns: deps.dns, now: deps.now },
    );
    const { rows, jobs } = await deps.sql.begin(async (tx) => {
      const added = await addFoundSelectors(tx, tenantId, domain, selectorsFound(report, domain));
      const rows: MessageTestRow[] = [];
      for (const a of group) {
        rows.push(
          await saveMessageTest(tx, {
            tenantId,
            domain,
            testAddressId: a.id,
            receivedAt: now,
            clientIp: m.ip,
            helo: m.helo.slice(0, 255),
            mailFrom: m.mailFrom.slice(0, 320),
            headerFrom: report.headers.from[0] ?? null,
            tlsVersion: m.tls?.version ?? null,
            spf: report.spf.result,
            dkim: dkimSummary(report),
            dmarc: report.dmarc.result,
            arc: report.arc.result,
            selectorsAdded: added,
            result: report,
          }),
        );
      }
      const settings = await getSettings(tx, tenantId);
      const jobs: TaskJob[] = [];
      if (settings?.webhookUrl) {
        for (const row of rows) {
          const payload = {
            event: 'message.received',
            createdAt: now.toISOString(),
            data: messageWebhookData(row, report),
          };
          const d = await createDelivery(tx, {
            tenantId,
            runId: null,
            event: 'message.received',
            url: settings.webhookUrl,
            payload,
          });
          jobs.push({ kind: 'webhook', deliveryId: d.id });
        }
      }
      return { rows, jobs };
    });
    stored.push(...rows);
    for (const job of jobs) {
      // The results are stored whatever happens here; a delivery not queued stays pending in its log.
      await deps
        .queueTask(job)
        .catch((err: Error) => deps.warn?.('webhook delivery not queued', { job, err: err.message }));
    }
  }
  return stored;
}
