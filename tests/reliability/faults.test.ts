/**
 * Fault runs (issue 12): 200 audits queued, then mid-batch a worker is SIGKILLed, Redis is
 * SIGKILLed and restarted empty, or Postgres is stopped at once (`-m immediate`) for 10 s and
 * started again. Each run: 0 audits lost (every one done), 0 duplicate reports, 0 worker exits but
 * the one killed on purpose, the API never answers 500 (503 with Retry-After while a store is
 * down), and every audit done within RECOVERY_MS of the store coming back.
 *
 * Real `mailaudit worker` processes, the API in this process, the lab's DNS and mail servers, and
 * a Redis and a Postgres of this test's own on ports the system hands out (stores.ts).
 */
import assert from 'node:assert/strict';
import { type ChildProcess, spawn } from 'node:child_process';
import { after, before, describe, it } from 'node:test';
import { type ApiContext, type App, buildApp, createContext } from '@mailaudit/api';
import { readEnv, toConfig } from '@mailaudit/config';
import { ensureLab, type LabInfo } from '@mailaudit/lab';
import { createApiKey, createSql, createTenant, migrate, type Sql } from '@mailaudit/store';
import { BIN } from '../helpers/cli.js';
import { type OwnPostgres, type OwnRedis, ownPostgres, ownRedis } from './stores.js';

/** Audits in each run. */
const BATCH = 200;
/** Longest wait, after the store is back (or the worker replaced), for the whole batch to be done. */
const RECOVERY_MS = 180_000;
/** Audits done before the fault is caused: it strikes mid-batch. */
const DONE_BEFORE_FAULT = 30;
const DOMAINS = ['good.test', 'nomx.test', 'implicit-mx.test'];

let lab: LabInfo;
let pg: OwnPostgres;
let redis: OwnRedis;
let sql: Sql;
let ctx: ApiContext;
let app: App;
let key: string;
let workerEnv: Record<string, string>;

interface Worker {
  child: ChildProcess;
  /** Killed by the test on purpose. */
  killed: boolean;
  stderr: string[];
}
const workers: Worker[] = [];
/** Workers that exited without being killed by the test. */
const unexpectedExits: string[] = [];

function spawnWorker(): Worker {
  const child = spawn(BIN, ['worker'], { env: { ...process.env, ...workerEnv }, stdio: ['ignore', 'ignore', 'pipe'] });
  const w: Worker = { child, killed: false, stderr: [] };
  child.stderr?.on('data', (d: Buffer) => {
    w.stderr.push(String(d));
    if (w.stderr.length > 200) w.stderr.shift();
  });
  child.on('exit', (code, signal) => {
    if (!w.killed)
      unexpectedExits.push(`worker ${child.pid} exited (${code ?? signal}): ${w.stderr.join('').slice(-2000)}`);
  });
  workers.push(w);
  return w;
}

async function killWorker(w: Worker): Promise<void> {
  w.killed = true;
  if (w.child.exitCode !== null || w.child.signalCode !== null) return;
  const gone = new Promise((r) => w.child.once('exit', r));
  w.child.kill('SIGKILL');
  await gone;
}

before(async () => {
  lab = await ensureLab();
  [pg, redis] = await Promise.all([ownPostgres(), ownRedis()]);
  sql = createSql(pg.url, { max: 4 });
  await migrate(sql);
  const tenant = await createTenant(sql, 'faults');
  key = (await createApiKey(sql, tenant.id, ['read', 'audit'])).key;
  const common = {
    DATABASE_URL: pg.url,
    REDIS_URL: redis.url,
    REDIS_PREFIX: 'faults',
    LOG_LEVEL: 'warn',
    REPORT_LINK_SECRET: 'fault-test-secret',
    MAILAUDIT_ALLOW_PRIVATE_TARGETS: '1',
  };
  workerEnv = {
    ...common,
    MAILAUDIT_RESOLVERS: lab.resolver,
    MAILAUDIT_CA_FILE: lab.caFile,
    MAILAUDIT_IP_BLOCKLISTS: lab.ipBlocklists.join(','),
    MAILAUDIT_DOMAIN_BLOCKLISTS: lab.domainBlocklists.join(','),
    WORKER_CONCURRENCY: '4',
    WORKER_LOCK_MS: '3000',
    SWEEP_INTERVAL_MS: '1000',
    SWEEP_AFTER_MS: '4000',
  };
  ctx = createContext(
    toConfig(readEnv({ ...common, PORT: '0', LOG_LEVEL: 'silent', RATE_LIMIT_PER_MINUTE: '100000' })),
  );
  app = await buildApp(ctx);
});

after(async () => {
  for (const w of workers) await killWorker(w);
  await app?.close().catch(() => {});
  await ctx?.close().catch(() => {});
  await sql?.end({ timeout: 1 }).catch(() => {});
  await redis?.kill();
  await pg?.destroy();
});

const auth = () => ({ authorization: `Bearer ${key}` });

async function queueBatch(): Promise<string[]> {
  const domains = Array.from({ length: BATCH }, (_, i) => DOMAINS[i % DOMAINS.length] as string);
  const r = await app.inject({
    method: 'POST',
    url: '/v1/audits',
    headers: { ...auth(), 'content-type': 'application/json' },
    payload: JSON.stringify({ domains }),
  });
  assert.equal(r.statusCode, 202, r.body);
  return (r.json().audits as { id: string }[]).map((a) => a.id);
}

async function statuses(ids: string[]): Promise<Record<string, number>> {
  const rows = await sql<{ status: string; n: number }[]>`
    select status, count(*)::int as n from audits where id in ${sql(ids)} group by status`;
  return Object.fromEntries(rows.map((r) => [r.status, r.n]));
}

async function waitFor<T>(what: string, ms: number, check: () => Promise<T | undefined>): Promise<T> {
  const deadline = Date.now() + ms;
  for (;;) {
    const v = await check().catch(() => undefined);
    if (v !== undefined) return v;
    if (Date.now() > deadline) throw new Error(`timed out after ${ms} ms waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 250));
  }
}

const doneCount = async (ids: string[]) => (await statuses(ids)).done ?? 0;

/** Waits for the batch to be done; returns how long it took. Fails on any audit that failed. */
async function allDone(ids: string[]): Promise<number> {
  const t0 = Date.now();
  await waitFor(`${ids.length} audits done`, RECOVERY_MS, async () => {
    const s = await statuses(ids);
    assert.equal(s.failed ?? 0, 0, `failed audits: ${JSON.stringify(s)}`);
    return s.done === ids.length ? true : undefined;
  });
  return Date.now() - t0;
}

/** Exactly one report per audit of the batch. */
async function assertOneReportEach(ids: string[]): Promise<void> {
  const rows = await sql<{ audit_id: string; n: number }[]>`
    select audit_id, count(*)::int as n from reports where audit_id in ${sql(ids)} group by audit_id`;
  assert.equal(rows.length, ids.length, 'every audit has a report');
  assert.deepEqual(
    rows.filter((r) => r.n !== 1),
    [],
    'no audit has two reports',
  );
}

/**
 * Calls the API over and over while `down()` holds: a POST, a GET of an audit, a list, /readyz.
 * Returns every status seen; the caller checks none is a 500.
 */
async function callWhile(
  down: () => boolean,
  someId: string,
): Promise<{ status: number; retryAfter?: string; url: string }[]> {
  const seen: { status: number; retryAfter?: string; url: string }[] = [];
  const calls = [
    () =>
      app.inject({
        method: 'POST',
        url: '/v1/audits',
        headers: { ...auth(), 'content-type': 'application/json' },
        payload: JSON.stringify({ domain: 'good.test' }),
      }),
    () => app.inject({ url: `/v1/audits/${someId}`, headers: auth() }),
    () => app.inject({ url: '/v1/audits?limit=5', headers: auth() }),
    () => app.inject({ url: '/readyz' }),
  ];
  let i = 0;
  while (down()) {
    const call = calls[i++ % calls.length] as (typeof calls)[number];
    const r = await call();
    const retryAfter = r.headers['retry-after'];
    seen.push({
      status: r.statusCode,
      url: r.raw.req.url ?? '',
      ...(retryAfter ? { retryAfter: String(retryAfter) } : {}),
    });
    await new Promise((res) => setTimeout(res, 100));
  }
  return seen;
}

/** None ≥ 500 but 503; every 503 of an API route carries Retry-After. */
function assertNever500(seen: { status: number; retryAfter?: string; url: string }[]): void {
  const bad = seen.filter((s) => s.status >= 500 && s.status !== 503);
  assert.deepEqual(bad, [], 'no answer ≥ 500 other than 503');
  for (const s of seen.filter((x) => x.status === 503 && x.url.startsWith('/v1/')))
    assert.ok(s.retryAfter, `503 without Retry-After on ${s.url}`);
}

describe('fault runs: 200 audits each, the fault mid-batch', { timeout: 20 * 60_000 }, () => {
  before(() => {
    spawnWorker();
    spawnWorker();
  });

  it('a worker SIGKILLed mid-batch: its audits are taken over, none lost or doubled', async (t) => {
    const ids = await queueBatch();
    await waitFor('the batch to be under way', RECOVERY_MS, async () =>
      (await doneCount(ids)) >= DONE_BEFORE_FAULT ? true : undefined,
    );
    const victim = workers.find((w) => !w.killed) as Worker;
    await killWorker(victim);
    spawnWorker(); // what a supervisor does
    const ms = await allDone(ids);
    await assertOneReportEach(ids);
    assert.deepEqual(unexpectedExits, []);
    t.diagnostic(`worker SIGKILL: batch done ${ms} ms after the kill`);
  });

  it('Redis SIGKILLed mid-batch and restarted empty: 503 meanwhile, every audit done after', async (t) => {
    const ids = await queueBatch();
    await waitFor('the batch to be under way', RECOVERY_MS, async () =>
      (await doneCount(ids)) >= DONE_BEFORE_FAULT ? true : undefined,
    );
    await redis.kill();
    const downFor = Date.now() + 5000;
    const seen = await callWhile(() => Date.now() < downFor, ids[0] as string);
    await redis.start();
    const ms = await allDone(ids);
    await assertOneReportEach(ids);
    assertNever500(seen);
    const posts = seen.filter((s) => s.url === '/v1/audits');
    assert.ok(posts.length > 0 && posts.every((s) => s.status === 503), JSON.stringify(posts));
    // Reads need only Postgres.
    assert.ok(seen.filter((s) => s.url.startsWith('/v1/audits/')).every((s) => s.status === 200));
    assert.ok(seen.filter((s) => s.url === '/readyz').every((s) => s.status === 503));
    assert.deepEqual(unexpectedExits, []);
    t.diagnostic(`Redis SIGKILL: ${seen.length} calls while down; batch done ${ms} ms after the restart`);
  });

  it('Postgres stopped at once for 10 s mid-batch: 503 meanwhile, workers stay up, every audit done after', async (t) => {
    const ids = await queueBatch();
    await waitFor('the batch to be under way', RECOVERY_MS, async () =>
      (await doneCount(ids)) >= DONE_BEFORE_FAULT ? true : undefined,
    );
    await pg.stop('immediate');
    const downFor = Date.now() + 10_000;
    const seen = await callWhile(() => Date.now() < downFor, ids[0] as string);
    await pg.start();
    const ms = await allDone(ids);
    await assertOneReportEach(ids);
    assertNever500(seen);
    const api = seen.filter((s) => s.url.startsWith('/v1/'));
    assert.ok(api.length > 0 && api.every((s) => s.status === 503), JSON.stringify(api));
    assert.deepEqual(unexpectedExits, []);
    t.diagnostic(`Postgres stop: ${seen.length} calls while down; batch done ${ms} ms after the start`);
  });

  it('no worker exited but the one killed on purpose', () => {
    assert.deepEqual(unexpectedExits, []);
    const alive = workers.filter((w) => !w.killed && w.child.exitCode === null && w.child.signalCode === null);
    assert.equal(alive.length, 2);
  });
});
