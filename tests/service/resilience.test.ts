/**
 * Nothing accepted is lost: a worker killed with SIGKILL mid-audit (another worker completes the
 * job, one report); a worker stopped with SIGTERM finishes its audit first; Redis down (enqueue
 * answers 503 and stores nothing; audits accepted before are audited once Redis is back, even when
 * Redis lost them). Real worker processes, a real Redis started by this test.
 */
import assert from 'node:assert/strict';
import { type ChildProcess, spawn } from 'node:child_process';
import { createConnection } from 'node:net';
import { after, before, describe, it } from 'node:test';
import { ensureLab, type LabInfo } from '@mailaudit/lab';
import { BIN } from '../helpers/cli.js';
import { freePort } from '../reliability/stores.js';
import { createTestService, eventually, type TestService } from './setup.js';

let lab: LabInfo;

before(async () => {
  lab = await ensureLab();
});

const children = new Set<ChildProcess>();
after(() => {
  for (const c of children) c.kill('SIGKILL');
});

function spawnWorker(svc: TestService, extra: Record<string, string> = {}): ChildProcess {
  const child = spawn(BIN, ['worker'], {
    env: { ...process.env, ...svc.workerEnv, ...extra },
    stdio: ['ignore', 'ignore', 'pipe'],
  });
  children.add(child);
  child.on('exit', () => children.delete(child));
  child.stderr?.resume();
  return child;
}

const exited = (c: ChildProcess) =>
  new Promise<number | null>((resolve) => {
    if (c.exitCode !== null) resolve(c.exitCode);
    else c.once('exit', (code) => resolve(code));
  });

async function post(svc: TestService, key: string, domain: string) {
  return svc.app.inject({
    method: 'POST',
    url: '/v1/audits',
    headers: { authorization: `Bearer ${key}`, 'content-type': 'application/json' },
    payload: JSON.stringify({ domain }),
  });
}

async function reportCount(svc: TestService, auditId: string): Promise<number> {
  const rows = await svc.sql<{ n: number }[]>`select count(*)::int as n from reports where audit_id = ${auditId}`;
  return rows[0]?.n ?? 0;
}

async function status(svc: TestService, id: string) {
  const [row] = await svc.sql<
    { status: string; attempts: number }[]
  >`select status, attempts from audits where id = ${id}`;
  return row;
}

describe('workers that die', () => {
  let svc: TestService;
  let key: string;
  before(async () => {
    svc = await createTestService(lab);
    key = await (await svc.tenant()).key();
  });
  after(() => svc.close());

  it('a worker killed with SIGKILL mid-audit: another worker completes the job, with one report', async () => {
    const a = spawnWorker(svc);
    const res = await post(svc, key, 'slow-smtp.test');
    assert.equal(res.statusCode, 202);
    const id = res.json().id as string;
    await eventually('the first worker to take the audit', async () =>
      (await status(svc, id))?.status === 'running' ? true : undefined,
    );
    a.kill('SIGKILL');
    await exited(a);
    const b = spawnWorker(svc);
    const done = await eventually(
      'the audit to be done',
      async () => {
        const s = await status(svc, id);
        return s?.status === 'done' ? s : undefined;
      },
      60_000,
    );
    assert.ok(done.attempts >= 2, `taken ${done.attempts} times`);
    assert.equal(await reportCount(svc, id), 1);
    b.kill('SIGTERM');
    assert.equal(await exited(b), 0);
  });

  it('a worker stopped with SIGTERM finishes the audit it is running, then exits 0', async () => {
    const w = spawnWorker(svc);
    const id = (await post(svc, key, 'slow-smtp.test')).json().id as string;
    await eventually('the worker to take the audit', async () =>
      (await status(svc, id))?.status === 'running' ? true : undefined,
    );
    w.kill('SIGTERM');
    assert.equal(await exited(w), 0);
    assert.equal((await status(svc, id))?.status, 'done');
  });
});

/** A Redis of this test's own, on a port of its own, to stop and start at will. */
function startRedis(port: number): Promise<ChildProcess> {
  const r = spawn('redis-server', ['--port', String(port), '--bind', '127.0.0.1', '--save', '', '--appendonly', 'no'], {
    stdio: 'ignore',
  });
  children.add(r);
  r.on('exit', () => children.delete(r));
  return eventually(
    `redis on ${port}`,
    async () =>
      new Promise<ChildProcess | undefined>((resolve) => {
        const s = createConnection({ port, host: '127.0.0.1' }, () => {
          s.destroy();
          resolve(r);
        });
        s.on('error', () => resolve(undefined));
      }),
  );
}

describe('Redis briefly down', () => {
  // A port the system hands out: a fixed one collided with another checkout's Redis once.
  let PORT = 0;
  let redis: ChildProcess;
  let svc: TestService;
  let key: string;
  before(async () => {
    PORT = await freePort();
    redis = await startRedis(PORT);
    svc = await createTestService(lab, { redisUrl: `redis://127.0.0.1:${PORT}` });
    key = await (await svc.tenant()).key();
  });
  after(async () => {
    await svc.close();
    redis.kill('SIGKILL');
  });

  it('answers 503 while Redis is down, stores nothing, and loses nothing it accepted', async () => {
    // Accepted while no worker runs: the job waits in Redis, which then loses it.
    const accepted = await post(svc, key, 'good.test');
    assert.equal(accepted.statusCode, 202);
    const acceptedId = accepted.json().id as string;
    redis.kill('SIGKILL');
    await exited(redis);

    const count = async () =>
      ((await svc.sql<{ n: number }[]>`select count(*)::int as n from audits`)[0] as { n: number }).n;
    const before = await count();
    const refused = await post(svc, key, 'nomx.test');
    assert.equal(refused.statusCode, 503, refused.body);
    assert.equal(refused.json().error.code, 'unavailable');
    assert.equal(refused.headers['retry-after'], '5');
    assert.equal(await count(), before, 'a refused audit is not stored');
    const ready = await svc.app.inject({ url: '/readyz' });
    assert.equal(ready.statusCode, 503);
    // Reads do not need Redis.
    const read = await svc.app.inject({ url: `/v1/audits/${acceptedId}`, headers: { authorization: `Bearer ${key}` } });
    assert.equal(read.statusCode, 200);

    redis = await startRedis(PORT);
    const again = await eventually('enqueue to work again', async () => {
      const r = await post(svc, key, 'nomx.test');
      return r.statusCode === 202 ? r : undefined;
    });
    await svc.startWorker();
    for (const id of [acceptedId, again.json().id as string]) {
      await eventually(
        `audit ${id} done`,
        async () => ((await status(svc, id))?.status === 'done' ? true : undefined),
        30_000,
      );
    }
    assert.equal(await reportCount(svc, acceptedId), 1);
  });
});
