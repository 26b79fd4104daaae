import type { Tx } from '../db.js';

export interface TenantSettings {
  id: string;
  name: string;
  nightlyHour: number;
  timezone: string;
  nightlyWindowMinutes: number;
  summarySkipUnchanged: boolean;
  webhookUrl: string | null;
  webhookSecret: string | null;
}

const settingsColumns = (sql: Tx) => sql`
  id, name, nightly_hour as "nightlyHour", timezone, nightly_window_minutes as "nightlyWindowMinutes",
  summary_skip_unchanged as "summarySkipUnchanged", webhook_url as "webhookUrl", webhook_secret as "webhookSecret"`;

export async function getSettings(sql: Tx, tenantId: string): Promise<TenantSettings | undefined> {
  const [row] = await sql<TenantSettings[]>`select ${settingsColumns(sql)} from tenants where id = ${tenantId}`;
  return row;
}

export async function allSettings(sql: Tx): Promise<TenantSettings[]> {
  return sql<TenantSettings[]>`select ${settingsColumns(sql)} from tenants order by created_at`;
}

export async function updateSettings(
  sql: Tx,
  tenantId: string,
  s: Omit<TenantSettings, 'id' | 'name'>,
): Promise<TenantSettings | undefined> {
  const [row] = await sql<TenantSettings[]>`
    update tenants set nightly_hour = ${s.nightlyHour}, timezone = ${s.timezone}, nightly_window_minutes = ${s.nightlyWindowMinutes},
      summary_skip_unchanged = ${s.summarySkipUnchanged}, webhook_url = ${s.webhookUrl}, webhook_secret = ${s.webhookSecret}
    where id = ${tenantId} returning ${settingsColumns(sql)}`;
  return row;
}

export interface NightlyRun {
  id: string;
  tenantId: string;
  runKey: string;
  trigger: 'schedule' | 'api' | 'command';
  status: 'running' | 'done';
  startedAt: Date;
  finishedAt: Date | null;
  audits: number;
}

const runColumns = (sql: Tx) =>
  sql`id, tenant_id as "tenantId", run_key as "runKey", trigger, status, started_at as "startedAt", finished_at as "finishedAt", audits`;

/** Starts the run of that night, or returns undefined when one was already started (by anyone). */
export async function startNightlyRun(
  sql: Tx,
  tenantId: string,
  runKey: string,
  trigger: NightlyRun['trigger'],
  at: Date,
): Promise<NightlyRun | undefined> {
  const [row] = await sql<NightlyRun[]>`
    insert into nightly_runs (tenant_id, run_key, trigger, started_at) values (${tenantId}, ${runKey}, ${trigger}, ${at})
    on conflict (tenant_id, run_key) do nothing returning ${runColumns(sql)}`;
  return row;
}

export async function getNightlyRun(sql: Tx, id: string): Promise<NightlyRun | undefined> {
  const [row] = await sql<NightlyRun[]>`select ${runColumns(sql)} from nightly_runs where id = ${id}`;
  return row;
}

export async function listNightlyRuns(sql: Tx, tenantId: string, limit: number): Promise<NightlyRun[]> {
  return sql<
    NightlyRun[]
  >`select ${runColumns(sql)} from nightly_runs where tenant_id = ${tenantId} order by started_at desc limit ${limit}`;
}

export async function setRunAudits(sql: Tx, runId: string, n: number): Promise<void> {
  await sql`update nightly_runs set audits = ${n} where id = ${runId}`;
}

/** Marks a run done once; false when it already was (the summary is sent once). */
export async function finishNightlyRun(sql: Tx, runId: string, at: Date): Promise<boolean> {
  const rows =
    await sql`update nightly_runs set status = 'done', finished_at = ${at} where id = ${runId} and status = 'running' returning id`;
  return rows.length > 0;
}

export async function runAudits(
  sql: Tx,
  runId: string,
): Promise<{ id: string; domain: string; status: string; error: string | null }[]> {
  return sql<{ id: string; domain: string; status: string; error: string | null }[]>`
    select id, domain, status, error from audits where nightly_run_id = ${runId} order by domain`;
}

export interface ChangeRow {
  id: string;
  domain: string;
  reportId: string;
  previousReportId: string | null;
  nightlyRunId: string | null;
  regressed: boolean;
  changed: boolean;
  diff: Record<string, unknown>;
  createdAt: Date;
}

const changeColumns = (sql: Tx) => sql`
  id, domain, report_id as "reportId", previous_report_id as "previousReportId", nightly_run_id as "nightlyRunId",
  regressed, changed, diff, created_at as "createdAt"`;

export async function saveChange(
  sql: Tx,
  c: Omit<ChangeRow, 'id' | 'createdAt' | 'diff'> & { tenantId: string; diff: unknown },
): Promise<ChangeRow | undefined> {
  const [row] = await sql<ChangeRow[]>`
    insert into changes (tenant_id, domain, report_id, previous_report_id, nightly_run_id, regressed, changed, diff)
    values (${c.tenantId}, ${c.domain}, ${c.reportId}, ${c.previousReportId}, ${c.nightlyRunId}, ${c.regressed}, ${c.changed}, ${sql.json(c.diff as never)})
    on conflict (report_id) do nothing returning ${changeColumns(sql)}`;
  return row;
}

export async function listChanges(sql: Tx, tenantId: string, domain: string, limit: number): Promise<ChangeRow[]> {
  return sql<
    ChangeRow[]
  >`select ${changeColumns(sql)} from changes where tenant_id = ${tenantId} and domain = ${domain} order by created_at desc limit ${limit}`;
}

export async function changesOfRun(sql: Tx, runId: string): Promise<ChangeRow[]> {
  return sql<ChangeRow[]>`select ${changeColumns(sql)} from changes where nightly_run_id = ${runId} order by domain`;
}

export interface EmailRow {
  id: string;
  kind: 'summary' | 'alert';
  recipients: string[];
  subject: string;
  textBody: string;
  htmlBody: string;
  status: 'pending' | 'sent' | 'failed' | 'skipped';
  attempts: number;
  lastError: string | null;
  sentAt: Date | null;
}

const emailColumns = (sql: Tx) => sql`
  id, kind, recipients, subject, text_body as "textBody", html_body as "htmlBody", status, attempts, last_error as "lastError", sent_at as "sentAt"`;

export async function createEmail(
  sql: Tx,
  e: {
    tenantId: string;
    runId: string | null;
    kind: EmailRow['kind'];
    recipients: string[];
    subject: string;
    textBody: string;
    htmlBody: string;
    status?: EmailRow['status'];
  },
): Promise<EmailRow> {
  const [row] = await sql<EmailRow[]>`
    insert into emails (tenant_id, nightly_run_id, kind, recipients, subject, text_body, html_body, status)
    values (${e.tenantId}, ${e.runId}, ${e.kind}, ${e.recipients}, ${e.subject}, ${e.textBody}, ${e.htmlBody}, ${e.status ?? 'pending'})
    returning ${emailColumns(sql)}`;
  return row as EmailRow;
}

export async function getEmail(sql: Tx, id: string): Promise<EmailRow | undefined> {
  const [row] = await sql<EmailRow[]>`select ${emailColumns(sql)} from emails where id = ${id}`;
  return row;
}

export async function recordEmailAttempt(
  sql: Tx,
  id: string,
  outcome: { ok: true } | { ok: false; error: string; final: boolean },
): Promise<void> {
  if (outcome.ok) {
    await sql`update emails set status = 'sent', attempts = attempts + 1, sent_at = now(), last_error = null where id = ${id}`;
  } else {
    await sql`update emails set status = ${outcome.final ? 'failed' : 'pending'}, attempts = attempts + 1, last_error = ${outcome.error.slice(0, 1000)} where id = ${id}`;
  }
}

export async function listEmails(
  sql: Tx,
  tenantId: string,
  limit: number,
): Promise<(EmailRow & { createdAt: Date })[]> {
  return sql<(EmailRow & { createdAt: Date })[]>`
    select ${emailColumns(sql)}, created_at as "createdAt" from emails where tenant_id = ${tenantId} order by created_at desc limit ${limit}`;
}

export interface DeliveryRow {
  id: string;
  event: string;
  url: string;
  payload: Record<string, unknown>;
  status: 'pending' | 'delivered' | 'failed';
  attempts: number;
  responseStatus: number | null;
  lastError: string | null;
  createdAt: Date;
  deliveredAt: Date | null;
}

const deliveryColumns = (sql: Tx) => sql`
  id, event, url, payload, status, attempts, response_status as "responseStatus", last_error as "lastError",
  created_at as "createdAt", delivered_at as "deliveredAt"`;

export async function createDelivery(
  sql: Tx,
  d: { tenantId: string; event: string; url: string; payload: unknown },
): Promise<DeliveryRow> {
  const [row] = await sql<DeliveryRow[]>`
    insert into webhook_deliveries (tenant_id, event, url, payload) values (${d.tenantId}, ${d.event}, ${d.url}, ${sql.json(d.payload as never)})
    returning ${deliveryColumns(sql)}`;
  return row as DeliveryRow;
}

export async function getDelivery(sql: Tx, id: string): Promise<(DeliveryRow & { tenantId: string }) | undefined> {
  const [row] = await sql<
    (DeliveryRow & { tenantId: string })[]
  >`select ${deliveryColumns(sql)}, tenant_id as "tenantId" from webhook_deliveries where id = ${id}`;
  return row;
}

export async function recordDeliveryAttempt(
  sql: Tx,
  id: string,
  o: { ok: boolean; status?: number; error?: string; final: boolean },
): Promise<void> {
  const status = o.ok ? 'delivered' : o.final ? 'failed' : 'pending';
  await sql`
    update webhook_deliveries set status = ${status}, attempts = attempts + 1, response_status = ${o.status ?? null},
      last_error = ${o.error?.slice(0, 1000) ?? null}, delivered_at = ${o.ok ? sql`now()` : null}
    where id = ${id}`;
}

export async function listDeliveries(sql: Tx, tenantId: string, limit: number): Promise<DeliveryRow[]> {
  return sql<
    DeliveryRow[]
  >`select ${deliveryColumns(sql)} from webhook_deliveries where tenant_id = ${tenantId} order by created_at desc, id desc limit ${limit}`;
}

/** The domains of a tenant audited every night. */
export async function nightlyDomains(sql: Tx, tenantId: string) {
  return sql<{ domain: string; dkimSelectors: string[]; recipients: string[] }[]>`
    select domain, dkim_selectors as "dkimSelectors", recipients from domains where tenant_id = ${tenantId} and nightly order by domain`;
}
