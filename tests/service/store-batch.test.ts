/**
 * Reports stored in batches (services/worker/src/processors/store-reports.ts): audits that finish at
 * once share a transaction; each gets one report; an audit of a domain whose report is being stored
 * waits for it, so each report is compared with the one before it; a bad report fails alone;
 * storing an audit twice stores it once. Real Postgres and Redis.
 */
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { readEnv, toConfig } from '@mailaudit/config';
import { type Report, SCORING_VERSION } from '@mailaudit/engine';
import { ensureLab } from '@mailaudit/lab';
import { type AuditRow, createAudits } from '@mailaudit/store';
import { createWorkerContext, type WorkerContext } from '@mailaudit/worker';
import { createTestService, type TestService } from './setup.js';

let svc: TestService;
let ctx: WorkerContext;

before(async () => {
  svc = await createTestService(await ensureLab());
  ctx = createWorkerContext(toConfig(readEnv(svc.workerEnv)));
});

after(async () => {
  await ctx.close();
  await svc.close();
});

function report(domain: string, score: number): Report {
  return {
    schema: 'mailaudit.report/1',
    domain,
    startedAt: new Date().toISOString(),
    durationMs: 10,
    score,
    grade: score >= 90 ? 'A' : 'B',
    scoringVersion: SCORING_VERSION,
    outcome: 'complete',
    categories: [],
    findings: [
      {
        code: 'dmarc.policy.none',
        severity: 'warning',
        category: 'dmarc',
        subject: `_dmarc.${domain}`,
        message: 'p=none',
        params: { round: score },
      },
    ],
    evidence: {},
  } as unknown as Report;
}

describe('reports stored in batches', () => {
  it('stores audits finishing at once, each domain in order, a bad report failing alone', async () => {
    const t = await svc.tenant('batches');
    const domains = Array.from({ length: 12 }, (_, i) => `batch${i}.example`);
    const rounds = 3;
    const audits: { audit: AuditRow; score: number }[] = [];
    for (let r = 0; r < rounds; r++) {
      const rows = await createAudits(
        svc.sql,
        t.id,
        domains.map((domain) => ({ domain, options: {} })),
      );
      for (const audit of rows) audits.push({ audit, score: 95 - 10 * r });
    }
    const [bad] = await createAudits(svc.sql, t.id, [{ domain: 'bad-report.example', options: {} }]);
    assert.ok(bad);

    // All at once, as a worker's jobs finishing together hand them over; the bad one (a score the
    // table refuses) among them.
    const results = await Promise.allSettled([
      ...audits.map(({ audit, score }) => ctx.reports.store(audit, report(audit.domain, score))),
      ctx.reports.store(bad, report(bad.domain, 101)),
    ]);
    const failed = results.filter((r) => r.status === 'rejected');
    assert.equal(failed.length, 1, 'only the bad report fails');
    assert.equal(results.at(-1)?.status, 'rejected');
    const ids = results.slice(0, -1).map((r) => (r.status === 'fulfilled' ? r.value : undefined));
    assert.equal(new Set(ids.filter(Boolean)).size, audits.length, 'a report each');

    const stored = await svc.sql<{ audit_id: string; id: string; n: number }[]>`
      select audit_id, count(*)::int as n from reports where tenant_id = ${t.id} group by audit_id`;
    assert.equal(stored.length, audits.length);
    assert.ok(stored.every((s) => s.n === 1));
    const [states] = await svc.sql<{ done: number; other: number }[]>`
      select count(*) filter (where status = 'done')::int as done, count(*) filter (where status <> 'done')::int as other
      from audits where tenant_id = ${t.id}`;
    assert.deepEqual([states?.done, states?.other], [audits.length, 1]);

    // Each domain's reports in the order they were handed over, each compared with the one before.
    const byAudit = new Map(audits.map((a, i) => [a.audit.id, ids[i]]));
    for (const domain of domains) {
      const mine = audits.filter((a) => a.audit.domain === domain).map((a) => byAudit.get(a.audit.id));
      const changes = await svc.sql<{ report_id: string; previous_report_id: string }[]>`
        select report_id, previous_report_id from changes where tenant_id = ${t.id} and domain = ${domain}`;
      const chain = new Map(changes.map((c) => [c.report_id, c.previous_report_id]));
      assert.equal(chain.size, rounds - 1, domain);
      for (let r = 1; r < rounds; r++) assert.equal(chain.get(mine[r] as string), mine[r - 1], `${domain} round ${r}`);
    }
    // The overview's row is the last report of each domain.
    const summaries = await svc.sql<{ domain: string; score: number }[]>`
      select domain, score from domain_summaries where tenant_id = ${t.id}`;
    assert.equal(summaries.length, domains.length);
    assert.ok(summaries.every((s) => s.score === 95 - 10 * (rounds - 1)));

    // Handed over again (a worker thought dead that finishes after all): nothing more is stored.
    const first = audits[0] as { audit: AuditRow; score: number };
    assert.equal(await ctx.reports.store(first.audit, report(first.audit.domain, first.score)), undefined);
    const [again] = await svc.sql<{ n: number }[]>`select count(*)::int as n from reports where tenant_id = ${t.id}`;
    assert.equal(again?.n, audits.length);
  });
});
