/** Webhook deliveries: the delivery log. */
import { jsonb, type Tx } from '../db.js';
import { notifyNightlyRun } from './nightly-runs.js';

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
  d: { tenantId: string; runId: string | null; event: string; url: string; payload: unknown },
): Promise<DeliveryRow> {
  const [row] = await sql<DeliveryRow[]>`
    insert into webhook_deliveries (tenant_id, nightly_run_id, event, url, payload)
    values (${d.tenantId}, ${d.runId}, ${d.event}, ${d.url}, ${jsonb(sql, d.payload)})
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
  const [row] = await sql<{ runId: string | null }[]>`
    update webhook_deliveries set status = ${status}, attempts = attempts + 1, response_status = ${o.status ?? null},
      last_error = ${o.error?.slice(0, 1000) ?? null}, delivered_at = ${o.ok ? sql`now()` : null}
    where id = ${id} returning nightly_run_id as "runId"`;
  if (row?.runId) await notifyNightlyRun(sql, row.runId);
}

/** The delivery log, newest first, after the cursor position `after` (creation time and id). */
export async function listDeliveries(
  sql: Tx,
  tenantId: string,
  limit: number,
  after?: { cursorAt: string; id: string },
): Promise<(DeliveryRow & { cursorAt: string })[]> {
  return sql<(DeliveryRow & { cursorAt: string })[]>`
    select ${deliveryColumns(sql)}, (created_at at time zone 'UTC')::text as "cursorAt" from webhook_deliveries
    where tenant_id = ${tenantId} ${after ? sql`and (created_at, id) < ((${after.cursorAt}::text::timestamp at time zone 'UTC'), ${after.id}::uuid)` : sql``}
    order by created_at desc, id desc limit ${limit}`;
}
