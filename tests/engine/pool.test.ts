/**
 * Audits on worker threads (AuditPool) against the lab: each report says what the same audit says
 * on the main thread, whatever thread ran it; an audit that throws in a thread rejects with the
 * error's class name; a closed pool refuses work.
 */
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { AuditPool, auditDomain, DnsCache, PoolAuditError, type Report, Resolver } from '@mailaudit/engine';
import { ensureLab, type LabInfo } from '@mailaudit/lab';

let lab: LabInfo;
let pool: AuditPool;

before(async () => {
  lab = await ensureLab();
  pool = new AuditPool({ servers: [lab.resolver], threads: 2, caFile: lab.caFile });
});

after(async () => {
  await pool.close();
});

const codes = (r: Report) => [...new Set(r.findings.map((f) => f.code))].sort();

describe('AuditPool', () => {
  it('gives the reports the main thread gives, in both threads, DNS only', async () => {
    const options = {
      probes: false,
      allowPrivateTargets: true,
      ipBlocklists: lab.ipBlocklists,
      domainBlocklists: lab.domainBlocklists,
    };
    const domains = lab.model.scenarios
      .filter((s) => s.options?.allowPrivateTargets !== false)
      .map((s) => s.domain)
      .slice(0, 12);
    const resolver = new Resolver({ servers: [lab.resolver] });
    const dns = new DnsCache(resolver);
    try {
      const [threaded, local] = await Promise.all([
        Promise.all(domains.map((d) => pool.audit(d, options))),
        Promise.all(domains.map((d) => auditDomain(d, options, { dns, now: () => new Date() }))),
      ]);
      assert.deepEqual(
        threaded.map((r) => r.domain),
        domains,
      );
      for (let i = 0; i < domains.length; i++) {
        const t = threaded[i] as Report;
        const l = local[i] as Report;
        assert.deepEqual(codes(t), codes(l), domains[i]);
        assert.equal(t.score, l.score, domains[i]);
        assert.deepEqual(t.categories, l.categories, domains[i]);
      }
    } finally {
      resolver.close();
    }
  });

  it('hands back the JSON text of the report as is', async () => {
    const text = await pool.auditJson('good.test', { probes: false, allowPrivateTargets: true });
    const r = JSON.parse(text) as Report;
    assert.equal(r.schema, 'mailaudit.report/1');
    assert.equal(r.domain, 'good.test');
  });

  it("rejects with the thrown error's class name, and keeps working", async () => {
    await assert.rejects(pool.audit('not a domain!', { probes: false }), (err: unknown) => {
      assert.ok(err instanceof PoolAuditError);
      assert.equal(err.errorName, 'InvalidDomainError');
      return true;
    });
    const r = await pool.audit('good.test', { probes: false, allowPrivateTargets: true });
    assert.equal(r.domain, 'good.test');
  });

  it('refuses work once closed', async () => {
    const p = new AuditPool({ servers: [lab.resolver], threads: 1 });
    await p.close();
    await assert.rejects(p.audit('good.test', {}), /closed/);
  });
});
