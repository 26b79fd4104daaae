/**
 * A night ends when its last audit ends, and nothing polls meanwhile: once an audit's end has
 * committed, its worker asks Postgres whether the night has an audit left open; if not, it queues
 * the night's end. Audits that fail still
 * count; a night whose audit jobs Redis lost still ends (the sweeper queues them again), and so does
 * one whose end was lost; an audit that never finishes is given up after MAX_TAKES takes, so that
 * its night ends too. Real Postgres, Redis and lab; workers in this process.
 */
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { readEnv, toConfig } from '@mailaudit/config';
import { ensureLab, type LabInfo } from '@mailaudit/lab';
import { nightEndJobId } from '@mailaudit/queue';
import { getNightlyRun, nightlyRunProgress, type Sql, upsertDomain, waitForNightlyRun } from '@mailaudit/store';
import {
  createWorkerContext,
  finishNightly,
  MAX_TAKES,
  type RunningWorker,
  runNightly,
  startWorker,
  sweep,
  type WorkerContext,
} from '@mailaudit/worker';
import { createTestService, type TestService } from './setup.js';

let lab: LabInfo;
let svc: TestService;
const contexts: WorkerContext[] = [];
const workers: RunningWorker[] = [];

before(async () => {
  lab = await ensureLab();
  svc = await createTestService(lab);
});

after(async () => {
  for (const w of workers) await w.close().catch(() => {});
  for (const c of contexts) await c.close().catch(() => {});
  await svc.close();
});

/** A worker's context without its BullMQ workers: jobs queued through it wait until a worker starts. */
function idleContext(): WorkerContext {
  const ctx = createWorkerContext(toConfig(readEnv(svc.workerEnv)));
  contexts.push(ctx);
  return ctx;
}

async function worker(): Promise<RunningWorker> {
  const w = await startWorker(toConfig(readEnv(svc.workerEnv)));
  workers.push(w);
  return w;
}

/** Each test stops its workers, so that the next one's jobs wait until it starts its own. */
async function stopWorkers(): Promise<void> {
  for (const w of workers.splice(0)) await w.close();
}

async function tenantWith(domains: string[]): Promise<string> {
  const t = await svc.tenant('nights');
  for (const domain of domains)
    await upsertDomain(svc.sql, t.id, {
      domain,
      nightly: true,
      dkimSelectors: [],
      extraHosts: [],
      recipients: ['noc@example.test'],
    });
  return t.id;
}

async function summaries(sql: Sql, runId: string) {
  return sql<{ subject: string; text_body: string }[]>`
    select subject, text_body from emails where nightly_run_id = ${runId} and kind = 'summary'`;
}

/** The night-end jobs of the tasks queue that are waiting, delayed or running. */
async function pendingNightEnds(ctx: WorkerContext) {
  const jobs = await ctx.tasks.getJobs(['waiting', 'delayed', 'active', 'prioritized']);
  return jobs.filter((j) => j.name === 'nightly-finish');
}

describe('the end of a night', () => {
  it('ends when its last audit ends, failed ones included, with one summary, and nothing polls', async () => {
    // A name that is not a domain gets through only by writing the store directly: its audit fails.
    const tenantId = await tenantWith(['good.test', 'bad..test']);
    const ctx = idleContext();
    const run = await runNightly(ctx, { tenantId, trigger: 'command' });
    assert.ok(run);
    const started = await getNightlyRun(svc.sql, run.id);
    assert.deepEqual([started?.status, started?.audits, started?.pending], ['running', 2, 2]);
    // While its audits wait, nothing about the night is queued: no finish job checking every few seconds.
    assert.deepEqual(await pendingNightEnds(ctx), []);

    await worker();
    const p = await waitForNightlyRun(svc.sql, run.id, 90_000);
    assert.deepEqual([p.status, p.audits, p.failedAudits], ['done', 2, 1]);
    const done = await getNightlyRun(svc.sql, run.id);
    assert.equal(done?.pending, 0);
    const [summary, ...more] = await summaries(svc.sql, run.id);
    assert.equal(more.length, 0, 'one summary');
    assert.match(
      summary?.text_body ?? '',
      /== Could not be checked tonight ==\n\nbad\.\.test: The check could not be completed tonight/,
    );

    // Finishing again (a duplicate job, the sweeper) changes nothing.
    assert.equal(await finishNightly(ctx, run.id), 'already done');
    assert.equal((await summaries(svc.sql, run.id)).length, 1);
    await stopWorkers();
  });

  it('ends when Redis lost its audit jobs: the sweeper queues them again', async () => {
    const tenantId = await tenantWith(['dmarc-none.test']);
    const ctx = idleContext();
    const run = await runNightly(ctx, { tenantId, trigger: 'command' });
    assert.ok(run);
    // Redis loses the night's jobs before any worker took them.
    await ctx.audits.obliterate({ force: true });
    assert.equal((await nightlyRunProgress(svc.sql, run.id))?.status, 'running');

    await worker();
    const p = await waitForNightlyRun(svc.sql, run.id, 90_000);
    assert.deepEqual([p.status, p.audits, p.failedAudits], ['done', 1, 0]);
    assert.equal((await summaries(svc.sql, run.id)).length, 1);
    await stopWorkers();
  });

  it('ends when its end was lost: the sweeper finishes a night whose audits all ended', async () => {
    // A night without audits has ended at once; its end job is lost with Redis before any worker ran it.
    const tenantId = await tenantWith([]);
    const ctx = idleContext();
    const run = await runNightly(ctx, { tenantId, trigger: 'command' });
    assert.ok(run);
    assert.ok(await ctx.tasks.getJob(nightEndJobId(run.id)), 'the end is queued at once');
    await ctx.tasks.obliterate({ force: true });

    const r = await sweep(ctx);
    assert.equal(r.nightsEnded, 1);
    await worker();
    const p = await waitForNightlyRun(svc.sql, run.id, 30_000);
    assert.equal(p.status, 'done');
    await stopWorkers();
  });

  it(`gives up on an audit taken ${MAX_TAKES} times, so that its night ends`, async () => {
    const tenantId = await tenantWith(['good.test']);
    const ctx = idleContext();
    const run = await runNightly(ctx, { tenantId, trigger: 'command' });
    assert.ok(run);
    await ctx.audits.obliterate({ force: true });
    // As if every worker that took it had died, MAX_TAKES times, long enough ago.
    await svc.sql`
      update audits set status = 'running', attempts = ${MAX_TAKES}, updated_at = now() - interval '1 hour'
      where nightly_run_id = ${run.id}`;

    const r = await sweep(ctx);
    assert.deepEqual([r.requeued, r.givenUp], [0, 1]);
    const [audit] = await svc.sql<{ status: string; error: string }[]>`
      select status, error from audits where nightly_run_id = ${run.id}`;
    assert.equal(audit?.status, 'failed');
    assert.match(audit?.error ?? '', /given up: taken 10 times/);
    assert.equal((await getNightlyRun(svc.sql, run.id))?.pending, 0);
    assert.ok(await ctx.tasks.getJob(nightEndJobId(run.id)), 'its end is queued');
  });
});
