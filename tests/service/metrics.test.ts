/**
 * Metrics per process, and one log format: a real `mailaudit worker` process serves what it
 * counted on its own /metrics (METRICS_PORT), while the API's /metrics has the cluster-wide gauges
 * (audits in Postgres, the queue in Redis); the worker's stderr is pino JSON lines, as the API's.
 */
import assert from 'node:assert/strict';
import { type ChildProcess, spawn } from 'node:child_process';
import { after, before, describe, it } from 'node:test';
import { ensureLab, type LabInfo } from '@mailaudit/lab';
import { BIN } from '../helpers/cli.js';
import { createTestService, eventually, type TestService } from './setup.js';

let lab: LabInfo;
let svc: TestService;
let child: ChildProcess | undefined;
let stderr = '';

before(async () => {
  lab = await ensureLab();
  svc = await createTestService(lab);
});

after(async () => {
  child?.kill('SIGKILL');
  await svc.close();
});

describe('metrics and logs of a worker process', () => {
  it('serves its own counts on METRICS_PORT, logs JSON lines, and the API keeps the cluster gauges', async () => {
    child = spawn(BIN, ['worker'], {
      env: { ...process.env, ...svc.workerEnv, LOG_LEVEL: 'info', METRICS_PORT: '0' },
      stdio: ['ignore', 'ignore', 'pipe'],
    });
    child.stderr?.on('data', (d) => {
      stderr += d;
    });
    const url = await eventually('the worker to start', async () => {
      const started = stderr
        .split('\n')
        .filter(Boolean)
        .map((l) => JSON.parse(l) as { msg: string; metrics?: string })
        .find((l) => l.msg === 'worker started');
      return started?.metrics;
    });
    assert.match(url, /^http:\/\/127\.0\.0\.1:\d+\/metrics$/);
    const before = await (await fetch(url)).text();
    assert.match(before, /^mailaudit_audits_finished_total\{status="done"\} 0$/m);

    const key = await (await svc.tenant()).key();
    const posted = await svc.app.inject({
      method: 'POST',
      url: '/v1/audits',
      headers: { authorization: `Bearer ${key}`, 'content-type': 'application/json' },
      payload: JSON.stringify({ domain: 'good.test' }),
    });
    assert.equal(posted.statusCode, 202);
    await eventually('the audit', async () => {
      const r = await svc.app.inject({
        url: `/v1/audits/${posted.json().id}`,
        headers: { authorization: `Bearer ${key}` },
      });
      return r.json().status === 'done' ? true : undefined;
    });

    const res = await fetch(url);
    assert.equal(res.status, 200);
    assert.match(res.headers.get('content-type') ?? '', /^text\/plain/);
    const text = await res.text();
    assert.match(text, /^mailaudit_audits_finished_total\{status="done"\} 1$/m);
    assert.match(text, /^mailaudit_audit_duration_seconds_count 1$/m);
    assert.match(text, /^mailaudit_dns_queries_total [1-9]\d*$/m);
    assert.match(text, /^mailaudit_probes_total\{outcome="open"\} [1-9]\d*$/m);
    // The worker probed good.test's mail host itself: nobody else had stored its results in Redis.
    assert.match(text, /^mailaudit_probe_results_total\{source="probed"\} [1-9]\d*$/m);
    assert.match(text, /^mailaudit_probe_results_total\{source="redis"\} 0$/m);
    assert.equal((await fetch(url.replace('/metrics', '/other'))).status, 404);

    // The API's process runs no worker: its registry has the cluster gauges, which count the stored audit.
    const api = (await svc.app.inject({ url: '/metrics' })).body;
    assert.doesNotMatch(api, /^mailaudit_audits_finished_total/m);
    assert.match(api, /^mailaudit_audits\{status="done"\} 1$/m);
    assert.match(api, /^mailaudit_queue_depth\{state="waiting"\} 0$/m);

    child.kill('SIGTERM');
    await new Promise((resolve) => child?.once('exit', resolve));
    const lines = stderr.trim().split('\n');
    for (const line of lines) {
      const l = JSON.parse(line) as Record<string, unknown>;
      assert.equal(l.service, 'worker', line);
      assert.ok(typeof l.msg === 'string' && typeof l.level === 'string' && typeof l.time === 'string', line);
    }
    assert.deepEqual(
      lines.map((l) => JSON.parse(l).msg),
      ['worker started', 'audit done', 'worker stopping: finishing the running jobs', 'worker stopped'],
    );
  });
});
