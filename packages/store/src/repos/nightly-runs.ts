/**
 * Nightly runs: one per tenant and night (or per run asked for by hand). A run's audits not yet
 * ended (`pending`) are counted from the audits themselves, not kept in the run's row: a counter
 * row that every audit of a night updates is a lock that all of them queue for (issue 16). Once an
 * audit's end has committed, its worker asks whether its night has ended (`nightEnded`). Every
 * change of a run, its emails and its webhook deliveries is announced on NIGHTLY_RUN_CHANNEL, so
 * that whoever waits for a run is woken, not polling.
 */
import type { Sql, Tx } from '../db.js';

/** The Postgres NOTIFY channel of run changes; the payload is the run's id. */
export const NIGHTLY_RUN_CHANNEL = 'mailaudit_nightly_run';

/** Announces a change of a run (delivered when the transaction commits). */
export async function notifyNightlyRun(sql: Tx, runId: string): Promise<void> {
  await sql`select pg_notify(${NIGHTLY_RUN_CHANNEL}, ${runId})`;
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
  /** Its audits not yet ended. */
  pending: number;
  /** Mail its summaries even to addresses that already got this night's. */
  force: boolean;
  /** Rounds of retries of inconclusive audits so far (outage mode). */
  retries: number;
  /** Since when it holds its summaries; null when it never did. */
  heldSince: Date | null;
}

/** The audits not yet ended of the run of the row of nightly_runs at hand (index audits_open_by_run). */
const openAudits = (sql: Tx) =>
  sql`select 1 from audits a where a.nightly_run_id = nightly_runs.id and a.status in ('queued', 'running')`;

const runColumns = (sql: Tx) =>
  sql`id, tenant_id as "tenantId", run_key as "runKey", trigger, status, started_at as "startedAt", finished_at as "finishedAt", audits,
      (select count(*)::int from (${openAudits(sql)}) o) as pending,
      force, retries, held_since as "heldSince"`;

/** Starts the run of that night, or returns undefined when one was already started (by anyone). */
export async function startNightlyRun(
  sql: Tx,
  tenantId: string,
  runKey: string,
  trigger: NightlyRun['trigger'],
  at: Date,
  force = false,
): Promise<NightlyRun | undefined> {
  const [row] = await sql<NightlyRun[]>`
    insert into nightly_runs (tenant_id, run_key, trigger, started_at, force) values (${tenantId}, ${runKey}, ${trigger}, ${at}, ${force})
    on conflict (tenant_id, run_key) do nothing returning ${runColumns(sql)}`;
  return row;
}

export async function getNightlyRun(sql: Tx, id: string): Promise<NightlyRun | undefined> {
  const [row] = await sql<NightlyRun[]>`select ${runColumns(sql)} from nightly_runs where id = ${id}`;
  return row;
}

/** A tenant's runs, newest first, after the cursor position `after` (start time and id). */
export async function listNightlyRuns(
  sql: Tx,
  tenantId: string,
  limit: number,
  after?: { cursorAt: string; id: string },
): Promise<(NightlyRun & { cursorAt: string })[]> {
  return sql<(NightlyRun & { cursorAt: string })[]>`
    select ${runColumns(sql)}, (started_at at time zone 'UTC')::text as "cursorAt" from nightly_runs
    where tenant_id = ${tenantId} ${after ? sql`and (started_at, id) < ((${after.cursorAt}::text::timestamp at time zone 'UTC'), ${after.id}::uuid)` : sql``}
    order by started_at desc, id desc limit ${limit}`;
}

/** Records how many audits the run has (in the transaction that creates them). */
export async function setRunAudits(sql: Tx, runId: string, n: number): Promise<void> {
  await sql`update nightly_runs set audits = ${n} where id = ${runId}`;
}

/** A held night audits `n` domains again (new audits, so not yet ended); one more round of retries. */
export async function holdNightlyRun(sql: Tx, runId: string, n: number, at: Date): Promise<void> {
  await sql`
    update nightly_runs set audits = audits + ${n}, retries = retries + 1,
      held_since = coalesce(held_since, ${at})
    where id = ${runId}`;
  await notifyNightlyRun(sql, runId);
}

/** Records an operator alert once per key; false when it was already recorded (by anyone). */
export async function recordOperatorAlert(
  sql: Tx,
  key: string,
  kind: string,
  detail: Record<string, unknown>,
): Promise<boolean> {
  const rows = await sql`
    insert into operator_alerts (key, kind, detail) values (${key}, ${kind}, ${sql.json(detail as never)})
    on conflict (key) do nothing returning id`;
  return rows.length > 0;
}

/** Marks a run done once; false when it already was (the summary is sent once). */
export async function finishNightlyRun(sql: Tx, runId: string, at: Date): Promise<boolean> {
  const rows =
    await sql`update nightly_runs set status = 'done', finished_at = ${at} where id = ${runId} and status = 'running' returning id`;
  if (rows.length > 0) await notifyNightlyRun(sql, runId);
  return rows.length > 0;
}

/**
 * Runs whose audits have all ended but that are not done: their finish was lost (a worker died
 * between the last audit and queueing it, or Redis lost the job). The sweeper finishes them.
 */
export async function endedRuns(sql: Tx, limit = 100): Promise<{ id: string }[]> {
  return sql<{ id: string }[]>`
    select id from nightly_runs
    where status = 'running' and not exists (${openAudits(sql)})
    order by started_at limit ${limit}`;
}

/**
 * Whether a running night has no audit left to end. Asked after an audit's end has committed, never
 * inside its transaction: of two audits that end at once, whichever asks last sees both ended (read
 * committed), so a night's end is never missed; both may see it, and queueing it twice is harmless.
 */
export async function nightEnded(sql: Tx, runId: string): Promise<boolean> {
  const rows = await sql`
    select 1 from nightly_runs where id = ${runId} and status = 'running' and not exists (${openAudits(sql)})`;
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
      (select count(*)::int from webhook_deliveries where nightly_run_id = r.id and status = 'pending')
        as "pendingDeliveries"
    from nightly_runs r where r.id = ${runId}`;
  return row;
}

/** A run is settled once done, with no email or webhook delivery left pending. */
export const settled = (p: NightlyRunProgress) =>
  p.status === 'done' && p.pendingEmails === 0 && p.pendingDeliveries === 0;

export class NightlyRunTimeout extends Error {
  override name = 'NightlyRunTimeout';
}

/**
 * Resolves with the run's progress once it is settled (done, its emails and webhook deliveries
 * sent or given up), woken by NIGHTLY_RUN_CHANNEL rather than by polling; rejects with
 * NightlyRunTimeout after `timeoutMs`. The state is read again whenever the listening connection
 * (re)connects, so nothing announced before or between connections is missed.
 */
export function waitForNightlyRun(sql: Sql, runId: string, timeoutMs: number): Promise<NightlyRunProgress> {
  return new Promise((resolve, reject) => {
    let over = false;
    let reading = false;
    let readAgain = false;
    let unlisten: (() => Promise<void>) | undefined;
    const end = (outcome: { progress: NightlyRunProgress } | { error: Error }) => {
      if (over) return;
      over = true;
      clearTimeout(timer);
      unlisten?.().catch(() => {});
      if ('error' in outcome) reject(outcome.error);
      else resolve(outcome.progress);
    };
    const read = async () => {
      if (reading) {
        readAgain = true;
        return;
      }
      reading = true;
      try {
        do {
          readAgain = false;
          const progress = await nightlyRunProgress(sql, runId);
          if (!progress) return end({ error: new Error(`no nightly run ${runId}`) });
          if (settled(progress)) return end({ progress });
        } while (readAgain && !over);
      } catch (err) {
        end({ error: err instanceof Error ? err : new Error(String(err)) });
      } finally {
        reading = false;
      }
    };
    const timer = setTimeout(
      () => end({ error: new NightlyRunTimeout(`run ${runId} not settled within ${timeoutMs} ms`) }),
      timeoutMs,
    );
    sql
      .listen(
        NIGHTLY_RUN_CHANNEL,
        (payload) => {
          if (payload === runId) void read();
        },
        () => void read(),
      )
      .then(
        (l) => {
          unlisten = () => l.unlisten();
          if (over) l.unlisten().catch(() => {});
        },
        (err: Error) => end({ error: err }),
      );
  });
}
