/**
 * Two real `mailaudit worker` processes (each with its audit threads) auditing domains of a hoster
 * (the lab's bulk domains, on four shared mail hosts): with PROBE_SHARE on (the default), the mail
 * hosts are probed once per address, port and server name between them all, as their own counts on
 * /metrics say, and every other result is read from Redis or reused.
 */
import assert from 'node:assert/strict';
import { type ChildProcess, spawn } from 'node:child_process';
import { after, before, describe, it } from 'node:test';
import { BULK_HOSTS, bulkDomainName, ensureLab, type LabInfo } from '@mailaudit/lab';
import { BIN } from '../helpers/cli.js';
import { createTestService, eventually, type TestService } from './setup.js';

const DOMAINS = 24;
let lab: LabInfo;
let svc: TestService;
const children: ChildProcess[] = [];

before(async () => {
  lab = await ensureLab({ bulk: DOMAINS });
  svc = await createTestService(lab);
});

after(async () => {
  for (const c of children) c.kill('SIGKILL');
  await svc.close();
});

/** A `mailaudit worker` process; resolves with its /metrics URL once it has started. */
async function worker(): Promise<string> {
  const child = spawn(BIN, ['worker'], {
    env: { ...process.env, ...svc.workerEnv, LOG_LEVEL: 'info', METRICS_PORT: '0', WORKER_CONCURRENCY: '8' },
    stdio: ['ignore', 'ignore', 'pipe'],
  });
  children.push(child);
  let stderr = '';
  child.stderr?.on('data', (d) => {
    stderr += d;
  });
  return eventually('the worker to start', async () => {
    const started = stderr
      .split('\n')
      .filter((l) => l.startsWith('{'))
      .map((l) => JSON.parse(l) as { msg: string; metrics?: string })
      .find((l) => l.msg === 'worker started');
    return started?.metrics;
  });
}

const sample = (text: string, series: string) => Number(new RegExp(`^${series} (\\d+)$`, 'm').exec(text)?.[1] ?? 0);

describe('two worker processes sharing probe results through Redis', () => {
  it('probe each address, port and server name of the shared mail hosts once between them', async () => {
    const urls = await Promise.all([worker(), worker()]);
    const key = await (await svc.tenant()).key();
    const ids: string[] = [];
    for (let i = 1; i <= DOMAINS; i++) {
      const posted = await svc.app.inject({
        method: 'POST',
        url: '/v1/audits',
        headers: { authorization: `Bearer ${key}`, 'content-type': 'application/json' },
        payload: JSON.stringify({ domain: bulkDomainName(i), dkimSelectors: ['default'] }),
      });
      assert.equal(posted.statusCode, 202, posted.body);
      ids.push(posted.json().id);
    }
    const reports = await eventually(
      'the audits',
      async () => {
        const all = await Promise.all(
          ids.map(async (id) => {
            const r = await svc.app.inject({ url: `/v1/audits/${id}`, headers: { authorization: `Bearer ${key}` } });
            return r.json() as {
              status: string;
              report?: { evidence: { transport?: { ports: { state: string }[] } } };
            };
          }),
        );
        return all.every((a) => a.status === 'done') ? all : undefined;
      },
      120_000,
    );
    // Every audit saw its mail host's seven ports open.
    for (const r of reports)
      assert.deepEqual(
        r.report?.evidence.transport?.ports.map((p) => p.state),
        Array(7).fill('open'),
      );
    const texts = await Promise.all(urls.map(async (u) => (await fetch(u)).text()));
    const done = texts.map((t) => sample(t, 'mailaudit_audits_finished_total\\{status="done"\\}'));
    assert.equal(
      done.reduce((a, b) => a + b, 0),
      DOMAINS,
    );
    const sum = (source: string) =>
      texts.reduce((n, t) => n + sample(t, `mailaudit_probe_results_total\\{source="${source}"\\}`), 0);
    assert.equal(sum('probed'), BULK_HOSTS * 7, 'one probe per mail host and port, between both workers');
    assert.equal(sum('probed') + sum('redis') + sum('reused'), DOMAINS * 7);
    // Each worker read what the other (or its other thread) probed, unless it probed it itself.
    if (done.every((n) => n > 0)) assert.ok(sum('redis') > 0);
  });
});
