import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { describe, it } from 'node:test';
import { auditMetrics, Registry, registerClusterGauges, registerProbeSources } from '../src/index.js';

describe('metrics', () => {
  it('records audits under the series names dashboards rely on', async () => {
    const registry = new Registry();
    const m = auditMetrics(registry);
    assert.equal(auditMetrics(registry), m, 'one set of series per registry');
    m.record({ status: 'done', durationMs: 800, dnsQueries: 12, probes: { open: 3, closed: 1, timeout: 0 } });
    m.record({ status: 'failed', durationMs: 0, dnsQueries: 0, probes: {} });
    m.record({
      status: 'done',
      durationMs: 300,
      dnsQueries: 0,
      probes: { timeout: 1 },
      port25NotChecked: 'probe.egress_unproven',
    });
    const text = await registry.metrics();
    for (const line of [
      'mailaudit_audits_finished_total{status="done"} 2',
      'mailaudit_audits_finished_total{status="failed"} 1',
      'mailaudit_audit_duration_seconds_bucket{le="0.25"} 0',
      'mailaudit_audit_duration_seconds_bucket{le="0.5"} 1',
      'mailaudit_audit_duration_seconds_bucket{le="1"} 2',
      'mailaudit_audit_duration_seconds_bucket{le="+Inf"} 2',
      'mailaudit_audit_duration_seconds_count 2',
      'mailaudit_dns_queries_total 12',
      'mailaudit_probes_total{outcome="open"} 3',
      'mailaudit_probes_total{outcome="closed"} 1',
      'mailaudit_probes_total{outcome="timeout"} 1',
      'mailaudit_port25_not_checked_total{reason="probe.egress_unproven"} 1',
    ])
      assert.ok(text.split('\n').includes(line), `${line} in\n${text}`);
    assert.doesNotMatch(text, /outcome="guarded"/, 'no zero samples for outcomes never seen');
  });

  it('adds up the probe sources of a registry at each scrape, and leaves out one that fails', async () => {
    const registry = new Registry();
    let probed = 2;
    registerProbeSources(registry, async () => ({ probed, shared: 5, reused: 40 }));
    registerProbeSources(registry, async () => ({ probed: 1, shared: 0, reused: 3 }));
    registerProbeSources(registry, async () => {
      throw new Error('pool closed');
    });
    const lines = async () => (await registry.metrics()).split('\n');
    for (const line of [
      'mailaudit_probe_results_total{source="probed"} 3',
      'mailaudit_probe_results_total{source="redis"} 5',
      'mailaudit_probe_results_total{source="reused"} 43',
    ])
      assert.ok((await lines()).includes(line), line);
    probed = 10;
    assert.ok((await lines()).includes('mailaudit_probe_results_total{source="probed"} 11'));
  });

  it('shows both outcomes from the start, as zero', async () => {
    const registry = new Registry();
    auditMetrics(registry);
    const text = await registry.metrics();
    assert.match(text, /^mailaudit_audits_finished_total\{status="done"\} 0$/m);
    assert.match(text, /^mailaudit_audits_finished_total\{status="failed"\} 0$/m);
  });

  it('reads the cluster gauges at each scrape, and leaves out one whose source fails', async () => {
    const registry = new Registry();
    let queued = 2;
    registerClusterGauges(registry, {
      auditCounts: async () => ({ queued, done: 5 }),
      queueDepth: () => Promise.reject(new Error('Redis is away')),
    });
    assert.match(await registry.metrics(), /^mailaudit_audits\{status="queued"\} 2$/m);
    queued = 0;
    const text = await registry.metrics();
    assert.match(text, /^mailaudit_audits\{status="queued"\} 0$/m);
    assert.match(text, /^mailaudit_audits\{status="done"\} 5$/m);
    assert.doesNotMatch(text, /^mailaudit_queue_depth\{/m);
  });
});

describe('logs', () => {
  it('writes one JSON object a line on stderr: ISO time, level by name, the service', () => {
    const code = `
      import { createLogger } from './packages/telemetry/src/index.ts';
      const log = createLogger('info', 'worker');
      log.debug('not shown');
      log.info({ auditId: 'a1' }, 'audit done');
      log.warn({ err: new Error('boom') }, 'task failed');
      createLogger('silent', 'api').error('never shown');`;
    const r = spawnSync(process.execPath, ['--import', 'tsx', '--input-type=module', '-e', code], {
      encoding: 'utf8',
    });
    assert.equal(r.status, 0, r.stderr);
    assert.equal(r.stdout, '', 'nothing on stdout');
    const lines = r.stderr
      .trim()
      .split('\n')
      .map((l) => JSON.parse(l));
    assert.deepEqual(
      lines.map((l) => [l.level, l.msg, l.service]),
      [
        ['info', 'audit done', 'worker'],
        ['warn', 'task failed', 'worker'],
      ],
    );
    assert.match(lines[0].time, /^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z$/);
    assert.equal(lines[0].auditId, 'a1');
    assert.equal(lines[1].err.message, 'boom');
  });
});
