/** Tenants and their settings (nightly schedule, webhook): the tenants table. */
import type { Tx } from '../db.js';

export interface Tenant {
  id: string;
  name: string;
  createdAt: Date;
}

export async function createTenant(sql: Tx, name: string): Promise<Tenant> {
  const [row] = await sql<
    Tenant[]
  >`insert into tenants (name) values (${name}) returning id, name, created_at as "createdAt"`;
  return row as Tenant;
}

export async function getTenant(sql: Tx, id: string): Promise<Tenant | undefined> {
  const [row] = await sql<Tenant[]>`select id, name, created_at as "createdAt" from tenants where id = ${id}`;
  return row;
}

export interface TenantSettings {
  id: string;
  name: string;
  nightlyHour: number;
  timezone: string;
  nightlyWindowMinutes: number;
  summarySkipUnchanged: boolean;
  webhookUrl: string | null;
  webhookSecret: string | null;
  /** A rotated-out secret that still signs (a second signature) until `webhookPreviousUntil`. */
  webhookPreviousSecret: string | null;
  webhookPreviousUntil: Date | null;
  /** Default language of the tenant's pages and emails (`en`, `tr`). */
  locale: string;
}

const settingsColumns = (sql: Tx) => sql`
  id, name, nightly_hour as "nightlyHour", timezone, nightly_window_minutes as "nightlyWindowMinutes",
  summary_skip_unchanged as "summarySkipUnchanged", webhook_url as "webhookUrl", webhook_secret as "webhookSecret",
  webhook_previous_secret as "webhookPreviousSecret", webhook_previous_until as "webhookPreviousUntil",
  locale`;

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
  s: Omit<TenantSettings, 'id' | 'name' | 'webhookPreviousSecret' | 'webhookPreviousUntil'>,
): Promise<TenantSettings | undefined> {
  const [row] = await sql<TenantSettings[]>`
    update tenants set nightly_hour = ${s.nightlyHour}, timezone = ${s.timezone}, nightly_window_minutes = ${s.nightlyWindowMinutes},
      summary_skip_unchanged = ${s.summarySkipUnchanged}, webhook_url = ${s.webhookUrl}, webhook_secret = ${s.webhookSecret},
      locale = ${s.locale}
    where id = ${tenantId} returning ${settingsColumns(sql)}`;
  return row;
}

/**
 * Replaces the webhook secret; the one it replaces keeps signing deliveries (a second signature)
 * for `graceSeconds` more (0: not at all). Undefined for an unknown tenant.
 */
export async function rotateWebhookSecret(
  sql: Tx,
  tenantId: string,
  secret: string,
  graceSeconds: number,
): Promise<TenantSettings | undefined> {
  const [row] = await sql<TenantSettings[]>`
    update tenants set
      webhook_previous_secret = case when ${graceSeconds}::int > 0 then webhook_secret end,
      webhook_previous_until = case when ${graceSeconds}::int > 0 then now() + make_interval(secs => ${graceSeconds}::int) end,
      webhook_secret = ${secret}
    where id = ${tenantId} returning ${settingsColumns(sql)}`;
  return row;
}
