/** Summary and alert emails, with their sending status. */
import type { Tx } from '../db.js';
import { notifyNightlyRun } from './nightly-runs.js';

export interface EmailRow {
  id: string;
  tenantId: string;
  kind: 'summary' | 'alert';
  recipients: string[];
  subject: string;
  textBody: string;
  htmlBody: string;
  status: 'pending' | 'sent' | 'failed' | 'skipped';
  attempts: number;
  lastError: string | null;
  sentAt: Date | null;
  /** The URL of its List-Unsubscribe header (RFC 8058); null: none. */
  listUnsubscribe: string | null;
}

const emailColumns = (sql: Tx) => sql`
  id, tenant_id as "tenantId", kind, recipients, subject, text_body as "textBody", html_body as "htmlBody", status, attempts, last_error as "lastError", sent_at as "sentAt",
  list_unsubscribe as "listUnsubscribe"`;

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
    /** The night a summary belongs to (the tenant's local date). */
    night?: string;
    /** The one-click unsubscribe URL of its (single) recipient. */
    listUnsubscribe?: string | null;
  },
): Promise<EmailRow> {
  const [row] = await sql<EmailRow[]>`
    insert into emails (tenant_id, nightly_run_id, kind, recipients, subject, text_body, html_body, status, night, list_unsubscribe)
    values (${e.tenantId}, ${e.runId}, ${e.kind}, ${e.recipients}, ${e.subject}, ${e.textBody}, ${e.htmlBody}, ${e.status ?? 'pending'}, ${e.night ?? null}, ${e.listUnsubscribe ?? null})
    returning ${emailColumns(sql)}`;
  return row as EmailRow;
}

/** Addresses that already have this night's summary (sent, or still to be sent). */
export async function summariedAddresses(sql: Tx, tenantId: string, night: string): Promise<Set<string>> {
  const rows = await sql<{ address: string }[]>`
    select distinct unnest(recipients) as address from emails
    where tenant_id = ${tenantId} and kind = 'summary' and night = ${night} and status in ('pending', 'sent')`;
  return new Set(rows.map((r) => r.address));
}

export async function getEmail(sql: Tx, id: string): Promise<EmailRow | undefined> {
  const [row] = await sql<EmailRow[]>`select ${emailColumns(sql)} from emails where id = ${id}`;
  return row;
}

/** An email not to be sent after all (its recipient unsubscribed before it went out). */
export async function skipEmail(sql: Tx, id: string, reason: string): Promise<void> {
  const [row] = await sql<{ runId: string | null }[]>`
    update emails set status = 'skipped', last_error = ${reason} where id = ${id} and status = 'pending'
    returning nightly_run_id as "runId"`;
  if (row?.runId) await notifyNightlyRun(sql, row.runId);
}

/** Records a sending attempt; announces it to whoever waits for the email's night. */
export async function recordEmailAttempt(
  sql: Tx,
  id: string,
  outcome: { ok: true } | { ok: false; error: string; final: boolean },
): Promise<void> {
  const [row] = outcome.ok
    ? await sql<{ runId: string | null }[]>`
        update emails set status = 'sent', attempts = attempts + 1, sent_at = now(), last_error = null
        where id = ${id} returning nightly_run_id as "runId"`
    : await sql<{ runId: string | null }[]>`
        update emails set status = ${outcome.final ? 'failed' : 'pending'}, attempts = attempts + 1,
          last_error = ${outcome.error.slice(0, 1000)}
        where id = ${id} returning nightly_run_id as "runId"`;
  if (row?.runId) await notifyNightlyRun(sql, row.runId);
}

export async function listEmails(
  sql: Tx,
  tenantId: string,
  limit: number,
  after?: { cursorAt: string; id: string },
): Promise<(EmailRow & { createdAt: Date; cursorAt: string })[]> {
  return sql<(EmailRow & { createdAt: Date; cursorAt: string })[]>`
    select ${emailColumns(sql)}, created_at as "createdAt", (created_at at time zone 'UTC')::text as "cursorAt" from emails
    where tenant_id = ${tenantId} ${after ? sql`and (created_at, id) < ((${after.cursorAt}::text::timestamp at time zone 'UTC'), ${after.id}::uuid)` : sql``}
    order by created_at desc, id desc limit ${limit}`;
}
