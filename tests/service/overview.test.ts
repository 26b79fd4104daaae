/**
 * The integrator's overview against the real Postgres, Redis and lab: a tenant with a few hundred
 * domains registered in one bulk request (PUT /v1/domains), their reports stored as the worker
 * stores them, then GET /v1/domains filtered, sorted and paged, GET /v1/findings across the latest
 * reports, and /latest?view=summary. The reports are real audits of lab scenarios, stored again
 * under each registered name, so that every filter is checked against what the engine reports.
 */
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import type { Report } from '@mailaudit/engine';
import { ensureLab } from '@mailaudit/lab';
import { completeAudit, createAudits } from '@mailaudit/store';
import { createTestService, eventually, type TestService } from './setup.js';

let svc: TestService;
let keyA: string;
let keyB: string;
let tenantA: string;

const SCENARIOS = ['good.test', 'dmarc-none.test', 'spf-missing.test', 'nullmx.test', 'nxdomain.test'];
const N = 300;
const names = Array.from({ length: N }, (_, i) => `d${String(i).padStart(3, '0')}.example`);
/** What each registered domain's latest report is, by name; absent: never audited. */
const latest = new Map<string, Report>();
/** Domains with two reports, whose latest differs from the first. */
const changed = new Set<string>();
let secondRoundAt: Date;

function call(method: string, url: string, key?: string, body?: unknown) {
  return svc.app.inject({
    method: method as 'GET',
    url,
    headers: {
      ...(key ? { authorization: `Bearer ${key}` } : {}),
      ...(body !== undefined ? { 'content-type': 'application/json' } : {}),
    },
    ...(body !== undefined ? { payload: JSON.stringify(body) } : {}),
  });
}

async function store(domain: string, template: Report, outcome?: string): Promise<Report> {
  const report = { ...template, domain, ...(outcome ? { outcome } : {}) } as Report;
  await svc.sql.begin(async (tx) => {
    const [audit] = await createAudits(tx, tenantA, [{ domain, options: {} }]);
    if (!audit) throw new Error('no audit');
    await completeAudit(tx, { id: audit.id, tenantId: tenantA, domain }, report);
  });
  return report;
}

/** Every page of GET /v1/domains with this query, following nextCursor. */
async function all(query: string, key = keyA): Promise<{ domain: string; [k: string]: unknown }[]> {
  const out = [];
  let cursor: string | null = null;
  for (let pages = 0; pages < 100; pages++) {
    const sep = query ? '&' : '';
    const res = await call('GET', `/v1/domains?${query}${sep}limit=37${cursor ? `&cursor=${cursor}` : ''}`, key);
    assert.equal(res.statusCode, 200, res.body);
    const body = res.json();
    out.push(...body.domains);
    cursor = body.nextCursor;
    if (!cursor) return out;
  }
  throw new Error('more than 100 pages');
}

const has = (r: Report, p: (f: Report['findings'][number]) => boolean) => r.findings.some(p);
const expected = (p: (r: Report) => boolean) =>
  names.filter((n) => {
    const r = latest.get(n);
    return r !== undefined && p(r);
  });

before(async () => {
  const lab = await ensureLab();
  svc = await createTestService(lab);
  const a = await svc.tenant('A');
  tenantA = a.id;
  keyA = await a.key();
  keyB = await (await svc.tenant('B')).key();
  await svc.startWorker();

  // Real audits of the lab's scenarios.
  const res = await call('POST', '/v1/audits', keyA, { domains: SCENARIOS });
  assert.equal(res.statusCode, 202, res.body);
  const templates: Report[] = [];
  for (const q of res.json().audits) {
    const done = await eventually(`audit ${q.domain}`, async () => {
      const b = (await call('GET', `/v1/audits/${q.id}`, keyA)).json();
      return b.status === 'done' ? b : undefined;
    });
    templates.push(done.report);
  }

  // A few hundred domains registered in one request.
  const bulk = await call('PUT', '/v1/domains', keyA, {
    domains: names.map((domain, i) => ({ domain, nightly: i % 2 === 0, recipients: [`ops${i}@example.com`] })),
  });
  assert.equal(bulk.statusCode, 200, bulk.body);
  assert.deepEqual(new Set(bulk.json().results.map((r: { status: string }) => r.status)), new Set(['created']));

  // Every domain but each tenth gets a report; each seventh a second, different one.
  for (const [i, name] of names.entries()) {
    if (i % 10 === 9) continue;
    const t = templates[i % templates.length] as Report;
    latest.set(name, await store(name, t, i % 3 === 0 ? 'partial' : 'complete'));
  }
  await new Promise((r) => setTimeout(r, 20));
  secondRoundAt = new Date();
  for (const [i, name] of names.entries()) {
    if (i % 10 === 9 || i % 7 !== 0) continue;
    const t = templates[(i + 1) % templates.length] as Report;
    latest.set(name, await store(name, t, 'complete'));
    changed.add(name);
  }
});

after(async () => {
  await svc?.close();
});

describe('bulk registration', () => {
  it('is idempotent: the same request again changes nothing', async () => {
    const before = (await call('GET', '/v1/domains/d001.example', keyA)).json();
    const again = await call('PUT', '/v1/domains', keyA, {
      domains: names.map((domain, i) => ({ domain, nightly: i % 2 === 0, recipients: [`ops${i}@example.com`] })),
    });
    assert.equal(again.statusCode, 200);
    const results = again.json().results;
    assert.equal(results.length, N);
    assert.ok(results.every((r: { status: string }) => r.status === 'unchanged'));
    const after = (await call('GET', '/v1/domains/d001.example', keyA)).json();
    assert.equal(after.updatedAt, before.updatedAt);
  });

  it('answers per item: created, updated, unchanged, and errors that leave the others applied', async () => {
    const res = await call('PUT', '/v1/domains', keyA, {
      domains: [
        { domain: 'd002.example', nightly: true },
        { domain: 'D003.Example.', nightly: true },
        { domain: 'new-one.example' },
        { domain: 'not a domain' },
        { domain: 'new-one.example', nightly: false },
      ],
    });
    assert.equal(res.statusCode, 200, res.body);
    const r = res.json().results;
    assert.deepEqual(
      r.map((x: { domain: string; status: string }) => [x.domain, x.status]),
      [
        ['d002.example', 'unchanged'],
        ['D003.Example.', 'updated'],
        ['new-one.example', 'created'],
        ['not a domain', 'error'],
        ['new-one.example', 'error'],
      ],
    );
    assert.equal(r[1].item.domain, 'd003.example');
    assert.equal(r[1].item.nightly, true);
    // A field left out keeps its value.
    assert.deepEqual(r[1].item.recipients, ['ops3@example.com']);
    assert.equal(r[3].error.code, 'invalid_domain');
    assert.match(r[3].error.message, /^\/body\/domains\/3\/domain: /);
    assert.equal(r[4].error.code, 'duplicate');
    assert.equal((await call('GET', '/v1/domains/new-one.example', keyA)).json().nightly, true);
    assert.equal((await call('DELETE', '/v1/domains/new-one.example', keyA)).statusCode, 204);
    await call('PUT', '/v1/domains', keyA, { domains: [{ domain: 'd003.example', nightly: false }] });
  });

  it('refuses more than 1,000 items and a bad field, naming it, before storing anything', async () => {
    const many = Array.from({ length: 1001 }, (_, i) => ({ domain: `x${i}.example` }));
    const res = await call('PUT', '/v1/domains', keyA, { domains: many });
    assert.equal(res.statusCode, 400);
    assert.equal(res.json().error.field, '/body/domains');
    const bad = await call('PUT', '/v1/domains', keyA, {
      domains: [{ domain: 'x1.example' }, { domain: 'x2.example', recipients: ['not-an-address'] }],
    });
    assert.equal(bad.statusCode, 400);
    assert.equal(bad.json().error.field, '/body/domains/1/recipients/0');
    const [row] = await svc.sql`select count(*)::int as n from domains where domain like 'x%.example'`;
    assert.equal(row?.n, 0);
  });

  it('needs the admin scope', async () => {
    const a = await svc.sql`select id from tenants where name = 'A'`;
    const readOnly = await (await import('@mailaudit/store')).createApiKey(svc.sql, a[0]?.id, ['read']);
    const res = await call('PUT', '/v1/domains', readOnly.key, { domains: [{ domain: 'y.example' }] });
    assert.equal(res.statusCode, 403);
  });
});

describe('the overview', () => {
  it('lists every registered domain once, by name, with its latest report summarised', async () => {
    const rows = await all('');
    assert.deepEqual(
      rows.map((r) => r.domain),
      [...names].sort(),
    );
    for (const row of rows) {
      const r = latest.get(row.domain);
      if (!r) {
        assert.equal(row.grade, null);
        assert.equal(row.lastAuditId, null);
        assert.equal(row.counts, null);
        continue;
      }
      assert.equal(row.score, r.score, row.domain);
      assert.equal(row.grade, r.grade);
      assert.equal(row.outcome, (r as Report & { outcome?: string }).outcome);
      const counts = { critical: 0, warning: 0, notice: 0, info: 0 };
      for (const f of r.findings) counts[f.severity]++;
      assert.deepEqual(row.counts, counts);
      const worst = (['critical', 'warning', 'notice', 'info'] as const).find((s) => counts[s] > 0) ?? null;
      assert.equal(row.worstSeverity, worst);
      assert.match(String(row.lastAuditId), /^[0-9a-f-]{36}$/);
    }
  });

  it('gives the trend and the previous score of domains audited twice', async () => {
    const rows = await all('');
    for (const row of rows) {
      if (!changed.has(row.domain)) {
        // One report (or none): nothing to compare with.
        assert.equal(row.trend, null, row.domain);
        assert.equal(row.previousScore, null);
        continue;
      }
      const prev = row.previousScore as number;
      const s = row.score as number;
      assert.equal(typeof prev, 'number');
      assert.equal(row.trend, s > prev ? 'up' : s < prev ? 'down' : 'same', row.domain);
    }
    assert.ok(rows.some((r) => r.trend === 'up' || r.trend === 'down'));
  });

  it('filters by grade, severity, worst severity, code, category and outcome', async () => {
    const grades = [...new Set([...latest.values()].map((r) => r.grade))];
    const g = grades[0] as string;
    assert.deepEqual(
      (await all(`grade=${encodeURIComponent(g)}`)).map((r) => r.domain),
      expected((r) => r.grade === g),
    );
    assert.deepEqual(
      (await all(`grade=${encodeURIComponent(grades.join(','))}`)).map((r) => r.domain),
      expected(() => true),
    );
    assert.deepEqual(
      (await all('severity=critical')).map((r) => r.domain),
      expected((r) => has(r, (f) => f.severity === 'critical')),
    );
    assert.deepEqual(
      (await all('worstSeverity=warning')).map((r) => r.domain),
      expected((r) => has(r, (f) => f.severity === 'warning') && !has(r, (f) => f.severity === 'critical')),
    );
    assert.deepEqual(
      (await all('code=dmarc.policy.none')).map((r) => r.domain),
      expected((r) => has(r, (f) => f.code === 'dmarc.policy.none')),
    );
    assert.ok(expected((r) => has(r, (f) => f.code === 'dmarc.policy.none')).length > 10);
    assert.deepEqual(
      (await all('code=dmarc.policy.none,spf.missing')).map((r) => r.domain),
      expected((r) => has(r, (f) => f.code === 'dmarc.policy.none' || f.code === 'spf.missing')),
    );
    assert.deepEqual(
      (await all('category=spf')).map((r) => r.domain),
      expected((r) => has(r, (f) => f.category === 'spf')),
    );
    assert.deepEqual(
      (await all('outcome=partial')).map((r) => r.domain),
      expected((r) => (r as Report & { outcome?: string }).outcome === 'partial'),
    );
    assert.deepEqual(
      (await all('severity=critical&outcome=complete')).map((r) => r.domain),
      expected(
        (r) => has(r, (f) => f.severity === 'critical') && (r as Report & { outcome?: string }).outcome === 'complete',
      ),
    );
    assert.deepEqual(
      (await all('audited=false')).map((r) => r.domain),
      names.filter((n) => !latest.has(n)),
    );
  });

  it('filters by "changed since": only the domains whose second report differed', async () => {
    const rows = await all(`changedSince=${secondRoundAt.toISOString()}`);
    assert.ok(changed.size > 10);
    assert.deepEqual(
      rows.map((r) => r.domain),
      [...changed].sort(),
    );
    assert.equal((await all(`changedSince=${new Date(Date.now() + 60_000).toISOString()}`)).length, 0);
  });

  it('sorts by score, worst severity and audit time, both ways, across pages', async () => {
    const byScore = await all('sort=score');
    const scores = byScore.map((r) => (r.score === null ? -1 : (r.score as number)));
    assert.deepEqual(
      scores,
      [...scores].sort((a, b) => a - b),
    );
    assert.equal(byScore.length, N);
    const down = await all('sort=-score&audited=true');
    const s2 = down.map((r) => r.score as number);
    assert.deepEqual(
      s2,
      [...s2].sort((a, b) => b - a),
    );
    assert.equal(new Set(down.map((r) => r.domain)).size, down.length);
    const rank = { critical: 0, warning: 1, notice: 2, info: 3 } as Record<string, number>;
    const sev = (await all('sort=severity&audited=true')).map((r) =>
      r.worstSeverity === null ? 4 : (rank[r.worstSeverity as string] as number),
    );
    assert.deepEqual(
      sev,
      [...sev].sort((a, b) => a - b),
    );
    const recent = (await all('sort=-auditedAt&audited=true')).map((r) => Date.parse(r.lastAuditAt as string));
    assert.deepEqual(
      recent,
      [...recent].sort((a, b) => b - a),
    );
    assert.equal(recent.length, latest.size);
  });

  it('answers 400 naming the field and the allowed values, and refuses a cursor of another sort', async () => {
    const res = await call('GET', '/v1/domains?grade=E', keyA);
    assert.equal(res.statusCode, 400);
    const e = res.json().error;
    assert.equal(e.field, '/query/grade');
    assert.deepEqual(e.allowed, ['A+', 'A', 'B', 'C', 'D', 'F']);
    const code = await call('GET', '/v1/domains?code=dmarc.nope', keyA);
    assert.equal(code.statusCode, 400);
    assert.equal(code.json().error.field, '/query/code');
    const first = (await call('GET', '/v1/domains?sort=score&limit=5', keyA)).json();
    const other = await call('GET', `/v1/domains?sort=domain&cursor=${first.nextCursor}`, keyA);
    assert.equal(other.statusCode, 400);
    assert.equal(other.json().error.field, '/query/cursor');
  });

  it("shows another tenant nothing of A's domains", async () => {
    const res = await call('GET', '/v1/domains', keyB);
    assert.deepEqual(res.json(), { domains: [], nextCursor: null });
    assert.deepEqual((await call('GET', '/v1/findings', keyB)).json(), { findings: [], nextCursor: null });
    assert.equal((await call('GET', '/v1/domains/d000.example', keyB)).statusCode, 404);
  });
});

describe('findings across the latest reports', () => {
  it('lists every finding of a code, one per domain and subject, from the latest reports only', async () => {
    const out = [];
    let cursor: string | null = null;
    do {
      const res = await call(
        'GET',
        `/v1/findings?code=dmarc.policy.none&limit=25${cursor ? `&cursor=${cursor}` : ''}`,
        keyA,
      );
      assert.equal(res.statusCode, 200, res.body);
      out.push(...res.json().findings);
      cursor = res.json().nextCursor;
    } while (cursor);
    assert.deepEqual(
      out.map((f) => f.domain),
      expected((r) => has(r, (f) => f.code === 'dmarc.policy.none')),
    );
    for (const f of out) assert.equal(f.severity, 'warning');
  });

  it('filters by severity and domain', async () => {
    const res = await call('GET', '/v1/findings?severity=critical&domain=D002.example&limit=500', keyA);
    const r = latest.get('d002.example') as Report;
    assert.deepEqual(
      res
        .json()
        .findings.map((f: { code: string; subject: string }) => `${f.code} ${f.subject}`)
        .sort(),
      r.findings
        .filter((f) => f.severity === 'critical')
        .map((f) => `${f.code} ${f.subject}`)
        .sort(),
    );
  });
});

describe('the latest report without its evidence', () => {
  it('view=summary leaves the evidence out and keeps the rest', async () => {
    const fullRes = await call('GET', '/v1/domains/d001.example/latest', keyA);
    const full = fullRes.json();
    const summary = await call('GET', '/v1/domains/d001.example/latest?view=summary', keyA);
    assert.equal(summary.statusCode, 200);
    const body = summary.json();
    assert.equal(body.report.evidence, undefined);
    assert.ok(full.report.evidence);
    const { evidence: _e, ...rest } = full.report;
    assert.deepEqual(body.report, rest);
    assert.ok(summary.body.length < fullRes.body.length);
    assert.equal((await call('GET', '/v1/domains/d001.example/latest?view=tiny', keyA)).statusCode, 400);
  });
});
