/** Nightly runs: one per tenant and night (or per run asked for by hand). */
import type { Tx } from '../db.js';

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

/** Where a run stands: its status, its audits, and its emails and webhook deliveries by status. */
export interface NightlyRunProgress {
  status: NightlyRun['status'];
  audits: number;
  failedAudits: number;
  pendingEmails: number;
  sentEmails: number;
  failedEmails: number;
  pendingDeliveries: number;
}

export async function nightlyRunProgress(sql: Tx, runId: string): Promise<NightlyRunProgress | undefined> {
  const [row] = await sql<NightlyRunProgress[]>`
    select r.status,
      (select count(*)::int from audits where nightly_run_id = r.id) as audits,
      (select count(*)::int from audits where nightly_run_id = r.id and status = 'failed') as "failedAudits",
      (select count(*)::int from emails where nightly_run_id = r.id and status = 'pending') as "pendingEmails",
      (select count(*)::int from emails where nightly_run_id = r.id and status = 'sent') as "sentEmails",
      (select count(*)::int from emails where nightly_run_id = r.id and status = 'failed') as "failedEmails",
      (select count(*)::int from webhook_deliveries where tenant_id = r.tenant_id and status = 'pending'
         and created_at >= r.started_at) as "pendingDeliveries"
    from nightly_runs r where r.id = ${runId}`;
  return row;
}
