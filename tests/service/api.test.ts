/**
 * The service against the real Postgres and Redis and the lab: POST → worker → report in Postgres
 * → GET; batch; tenant isolation on every route; scopes and revoked keys; idempotency; pagination;
 * diff; bad input never answers 500; health, readiness, metrics and the OpenAPI document.
 */
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { ensureLab, type LabInfo } from '@mailaudit/lab';
import { revokeApiKey } from '@mailaudit/store';
import { createTestService, eventually, type TestService } from './setup.js';

let lab: LabInfo;
let svc: TestService;
let keyA: string;
let keyB: string;
let tenantA: { id: string; key: (s?: ('read' | 'audit' | 'admin')[]) => Promise<string> };

before(async () => {
  lab = await ensureLab();
  svc = await createTestService(lab);
  tenantA = await svc.tenant('A');
  keyA = await tenantA.key();
  keyB = await (await svc.tenant('B')).key();
  await svc.startWorker();
});

after(async () => {
  await svc.close();
});

function call(method: string, url: string, key?: string, body?: unknown, headers: Record<string, string> = {}) {
  return svc.app.inject({
    method: method as 'GET',
    url,
    headers: {
      ...(key ? { authorization: `Bearer ${key}` } : {}),
      ...(body !== undefined ? { 'content-type': 'application/json' } : {}),
      ...headers,
    },
    ...(body !== undefined ? { payload: typeof body === 'string' ? body : JSON.stringify(body) } : {}),
  });
}

async function waitDone(id: string, key = keyA) {
  return eventually(`audit ${id}`, async () => {
    const r = await call('GET', `/v1/audits/${id}`, key);
    const b = r.json();
    return b.status === 'done' || b.status === 'failed' ? b : undefined;
  });
}

describe('audits', () => {
  it('POST queues, the worker audits, GET returns the report stored in Postgres', async () => {
    const res = await call('POST', '/v1/audits', keyA, { domain: 'Good.Test.' });
    assert.equal(res.statusCode, 202);
    const body = res.json();
    assert.equal(body.status, 'queued');
    assert.equal(body.domain, 'good.test');
    assert.equal(res.headers.location, `http://api.test/v1/audits/${body.id}`);
    const done = await waitDone(body.id);
    assert.equal(done.status, 'done');
    assert.equal(done.report.schema, 'mailaudit.report/1');
    assert.equal(done.report.grade, 'A+');
    const [row] = await svc.sql`select score, grade from reports where audit_id = ${body.id}`;
    assert.deepEqual(row, { score: 100, grade: 'A+' });
  });

  it('stores findings as rows, and takes DKIM selectors per audit', async () => {
    const res = await call('POST', '/v1/audits', keyA, { domain: 'dmarc-none.test', dkimSelectors: ['default'] });
    const done = await waitDone(res.json().id);
    const codes = done.report.findings.map((f: { code: string }) => f.code);
    assert.deepEqual(codes, ['dmarc.policy.none']);
    const rows = await svc.sql`select code, severity, category from findings where domain = 'dmarc-none.test'`;
    assert.deepEqual([...rows], [{ code: 'dmarc.policy.none', severity: 'warning', category: 'dmarc' }]);
  });

  it('queues a batch and audits every domain', async () => {
    const domains = ['spf-missing.test', 'nullmx.test', 'bücher.test'];
    const res = await call('POST', '/v1/audits', keyA, { domains });
    assert.equal(res.statusCode, 202);
    const audits = res.json().audits as { id: string; domain: string }[];
    assert.deepEqual(
      audits.map((a) => a.domain),
      ['spf-missing.test', 'nullmx.test', 'xn--bcher-kva.test'],
    );
    const results = await Promise.all(audits.map((a) => waitDone(a.id)));
    assert.ok(results.every((r) => r.status === 'done'));
    assert.ok(results[2].report.findings.some((f: { code: string }) => f.code === 'domain.not_found'));
  });

  it('honours Idempotency-Key: the same request returns the first response; another body is a conflict', async () => {
    const headers = { 'idempotency-key': 'order-42' };
    const count = async () =>
      (await svc.sql<{ n: number }[]>`select count(*)::int as n from audits where tenant_id = ${tenantA.id}`)[0]?.n ??
      0;
    const before = await count();
    const first = await call('POST', '/v1/audits', keyA, { domain: 'good.test' }, headers);
    const again = await call('POST', '/v1/audits', keyA, { domain: 'good.test' }, headers);
    assert.equal(again.statusCode, 202);
    assert.equal(again.json().id, first.json().id);
    assert.equal(again.headers['idempotent-replayed'], 'true');
    const other = await call('POST', '/v1/audits', keyA, { domain: 'nomx.test' }, headers);
    assert.equal(other.statusCode, 409);
    assert.equal(await count(), before + 1, 'one audit for the key, whatever the retries');
    // Keys belong to a tenant: B may use the same key for its own request.
    const b = await call('POST', '/v1/audits', keyB, { domain: 'nomx.test' }, headers);
    assert.equal(b.statusCode, 202);
    await waitDone(first.json().id);
  });

  it('paginates GET /v1/audits newest first with a cursor, filtered by domain and status', async () => {
    const t = await svc.tenant('pages');
    const key = await t.key();
    const batch = await call('POST', '/v1/audits', key, { domains: Array.from({ length: 7 }, () => 'good.test') });
    await Promise.all(batch.json().audits.map((a: { id: string }) => waitDone(a.id, key)));
    const seen: string[] = [];
    let cursor: string | null = null;
    let pages = 0;
    do {
      const r = await call(
        'GET',
        `/v1/audits?limit=3&domain=good.test&status=done${cursor ? `&cursor=${cursor}` : ''}`,
        key,
      );
      assert.equal(r.statusCode, 200);
      const b = r.json();
      seen.push(...b.audits.map((a: { id: string }) => a.id));
      cursor = b.nextCursor;
      pages++;
    } while (cursor);
    assert.equal(pages, 3);
    assert.equal(new Set(seen).size, 7);
    const ids = batch.json().audits.map((a: { id: string }) => a.id);
    assert.deepEqual([...seen].sort(), [...ids].sort());
    const none = await call('GET', '/v1/audits?status=failed', key);
    assert.deepEqual(none.json().audits, []);
  });
});

describe('domains, history and diff', () => {
  it('registers a domain, lists it, updates, deletes', async () => {
    const put = await call('PUT', '/v1/domains/good.test', keyA, {
      nightly: true,
      recipients: ['ops@good.test'],
      dkimSelectors: ['default'],
    });
    assert.equal(put.statusCode, 201);
    assert.deepEqual(put.json().recipients, ['ops@good.test']);
    const again = await call('PUT', '/v1/domains/good.test', keyA, { nightly: false });
    assert.equal(again.statusCode, 200);
    assert.equal(again.json().nightly, false);
    assert.deepEqual(again.json().recipients, ['ops@good.test'], 'fields not given are kept');
    const list = await call('GET', '/v1/domains', keyA);
    assert.deepEqual(
      list.json().domains.map((d: { domain: string }) => d.domain),
      ['good.test'],
    );
    assert.equal((await call('DELETE', '/v1/domains/good.test', keyA)).statusCode, 204);
    assert.equal((await call('GET', '/v1/domains/good.test', keyA)).statusCode, 404);
  });

  it("uses a registered domain's DKIM selectors and extra mail hosts in its audits", async () => {
    const t = await svc.tenant('extra');
    const key = await t.key();
    const put = await call('PUT', '/v1/domains/good.test', key, {
      dkimSelectors: ['nothere'],
      extraHosts: ['imap.tls-legacy.test'],
    });
    assert.equal(put.statusCode, 201);
    const done = await waitDone((await call('POST', '/v1/audits', key, { domain: 'good.test' })).json().id, key);
    const codes = done.report.findings.map((f: { code: string; subject: string }) => `${f.code} ${f.subject}`);
    assert.ok(codes.includes('dkim.missing _domainkey.good.test'), codes.join(', '));
    assert.ok(codes.includes('tls.version.legacy imap.tls-legacy.test:993'), codes.join(', '));
  });

  it('keeps the history of a domain and diffs two reports', async () => {
    const t = await svc.tenant('history');
    const key = await t.key();
    // The same domain audited twice with different selectors: the second finds no DKIM key.
    const a1 = await call('POST', '/v1/audits', key, { domain: 'good.test', dkimSelectors: ['default'] });
    await waitDone(a1.json().id, key);
    const a2 = await call('POST', '/v1/audits', key, { domain: 'good.test', dkimSelectors: ['nothere'] });
    await waitDone(a2.json().id, key);
    const history = (await call('GET', '/v1/domains/good.test/reports', key)).json().reports;
    assert.equal(history.length, 2);
    assert.equal(history[0].auditId, a2.json().id, 'newest first');
    const latest = await call('GET', '/v1/domains/good.test/latest', key);
    assert.equal(latest.json().id, history[0].id);
    const diff = (await call('GET', '/v1/domains/good.test/diff', key)).json();
    assert.deepEqual(
      diff.added.map((f: { code: string }) => f.code),
      ['dkim.missing'],
    );
    assert.deepEqual(diff.resolved, []);
    assert.ok(diff.scoreChange < 0);
    assert.equal(diff.regressed, true);
    const back = (
      await call('GET', `/v1/domains/good.test/diff?from=${history[0].id}&to=${history[1].id}`, key)
    ).json();
    assert.deepEqual(
      back.resolved.map((f: { code: string }) => f.code),
      ['dkim.missing'],
    );
    const one = await call('GET', `/v1/domains/good.test/reports/${history[1].id}`, key);
    assert.equal(one.json().report.domain, 'good.test');
  });
});

describe('tenants, keys and scopes', () => {
  it("answers 404 for another tenant's resources, on every route", async () => {
    const res = await call('POST', '/v1/audits', keyA, { domain: 'good.test' });
    const id = res.json().id;
    const done = await waitDone(id);
    await call('PUT', '/v1/domains/good.test', keyA, {});
    assert.equal((await call('GET', `/v1/audits/${id}`, keyB)).statusCode, 404);
    assert.ok(!(await call('GET', '/v1/audits', keyB)).json().audits.some((a: { id: string }) => a.id === id));
    assert.equal((await call('GET', '/v1/domains/good.test', keyB)).statusCode, 404);
    assert.equal((await call('DELETE', '/v1/domains/good.test', keyB)).statusCode, 404);
    assert.deepEqual((await call('GET', '/v1/domains', keyB)).json().domains, []);
    assert.deepEqual((await call('GET', '/v1/domains/good.test/reports', keyB)).json().reports, []);
    assert.equal((await call('GET', '/v1/domains/good.test/latest', keyB)).statusCode, 404);
    assert.equal((await call('GET', '/v1/domains/good.test/diff', keyB)).statusCode, 404);
    assert.equal((await call('GET', `/v1/domains/good.test/reports/${done.reportId}`, keyB)).statusCode, 404);
    // And A still sees all of it.
    assert.equal((await call('GET', '/v1/domains/good.test', keyA)).statusCode, 200);
  });

  it('enforces scopes and refuses missing, unknown and revoked keys', async () => {
    const readOnly = await tenantA.key(['read']);
    const auditOnly = await tenantA.key(['audit']);
    assert.equal((await call('POST', '/v1/audits', readOnly, { domain: 'good.test' })).statusCode, 403);
    assert.equal((await call('PUT', '/v1/domains/x.test', auditOnly, {})).statusCode, 403);
    assert.equal((await call('GET', '/v1/audits', auditOnly)).statusCode, 403);
    assert.equal((await call('GET', '/v1/audits', readOnly)).statusCode, 200);
    const noKey = await call('GET', '/v1/audits');
    assert.equal(noKey.statusCode, 401);
    assert.deepEqual(Object.keys(noKey.json().error).sort(), ['code', 'message']);
    assert.equal((await call('GET', '/v1/audits', 'mk_00000000_notakeyatall')).statusCode, 401);
    const [row] = await svc.sql`select id from api_keys where tenant_id = ${tenantA.id} and scopes = ${['read']}`;
    await revokeApiKey(svc.sql, row?.id as string);
    assert.equal((await call('GET', '/v1/audits', readOnly)).statusCode, 401);
    const [used] = await svc.sql`select last_used_at from api_keys where id = ${row?.id as string}`;
    assert.ok(used?.last_used_at instanceof Date, 'last use recorded');
  });

  it('limits requests per key, in Redis', async () => {
    const limited = await createTestService(lab, { rateLimitPerMinute: 3 });
    try {
      const key = await (await limited.tenant()).key();
      const other = await (await limited.tenant()).key();
      const codes = [];
      for (let i = 0; i < 5; i++)
        codes.push(
          (await limited.app.inject({ url: '/v1/audits', headers: { authorization: `Bearer ${key}` } })).statusCode,
        );
      assert.deepEqual(codes, [200, 200, 200, 429, 429]);
      const r = await limited.app.inject({ url: '/v1/audits', headers: { authorization: `Bearer ${other}` } });
      assert.equal(r.statusCode, 200, 'another key has its own budget');
      const keys = await limited.ctx.redis.keys(`${limited.prefix}:ratelimit:*`);
      assert.ok(keys.length >= 1);
    } finally {
      await limited.close();
    }
  });
});

describe('bad input never answers 500', () => {
  const cases: [string, string, unknown, number][] = [
    ['wrong type', '/v1/audits', { domain: 42 }, 400],
    ['unknown field', '/v1/audits', { domain: 'good.test', force: true }, 400],
    ['both forms', '/v1/audits', { domain: 'good.test', domains: ['x.test'] }, 400],
    ['empty batch', '/v1/audits', { domains: [] }, 400],
    ['huge batch', '/v1/audits', { domains: Array.from({ length: 1001 }, (_, i) => `d${i}.test`) }, 400],
    ['an IP', '/v1/audits', { domain: '192.0.2.1' }, 400],
    ['a URL', '/v1/audits', { domain: 'https://good.test/' }, 400],
    ['a bad label', '/v1/audits', { domain: `${'a'.repeat(64)}.test` }, 400],
    ['a bad selector', '/v1/audits', { domain: 'good.test', dkimSelectors: ['a b'] }, 400],
    ['not JSON', '/v1/audits', '{"domain": ', 400],
    ['an array', '/v1/audits', [1, 2], 400],
    ['null', '/v1/audits', 'null', 400],
    ['too large', '/v1/audits', { domains: ['x'.repeat(300_000)] }, 413],
  ];
  for (const [what, url, body, status] of cases) {
    it(`POST ${what} → ${status} with the error shape`, async () => {
      const r = await call('POST', url, keyA, body);
      assert.equal(r.statusCode, status, r.body);
      const e = r.json().error;
      assert.equal(typeof e.code, 'string');
      assert.ok(e.message.length > 5);
    });
  }

  it('rejects bad parameters, queries and domain bodies with 400', async () => {
    for (const [method, url, body] of [
      ['GET', '/v1/audits/not-a-uuid', undefined],
      ['GET', '/v1/audits?limit=100000', undefined],
      ['GET', '/v1/audits?limit=abc', undefined],
      ['GET', '/v1/audits?cursor=garbage', undefined],
      ['GET', '/v1/audits?status=exploded', undefined],
      ['GET', '/v1/audits?since=yesterday', undefined],
      ['GET', '/v1/audits?bogus=1', undefined],
      ['PUT', '/v1/domains/bad_domain!', {}],
      ['PUT', '/v1/domains/good.test', { recipients: ['not-an-address'] }],
      ['PUT', '/v1/domains/good.test', { nightly: 'yes' }],
      ['GET', '/v1/domains/good.test/diff?from=00000000-0000-0000-0000-000000000000', undefined],
    ] as const) {
      const r = await call(method, url, keyA, body);
      assert.equal(r.statusCode, 400, `${method} ${url}: ${r.statusCode} ${r.body}`);
    }
    assert.equal((await call('GET', '/v1/nowhere', keyA)).statusCode, 404);
  });
});

describe('health, metrics, OpenAPI', () => {
  it('/healthz and /readyz need no key', async () => {
    assert.deepEqual((await call('GET', '/healthz')).json(), { status: 'ok' });
    const ready = await call('GET', '/readyz');
    assert.equal(ready.statusCode, 200);
    assert.deepEqual(ready.json(), {
      status: 'ready',
      postgres: 'ok',
      redis: 'ok',
      resolvers: { status: 'ok', failing: [] },
    });
  });

  it('/metrics has audits by status, queue depth, durations, DNS queries and probe outcomes', async () => {
    const text = (await call('GET', '/metrics')).body;
    for (const m of [
      'mailaudit_audits{status="done"}',
      'mailaudit_queue_depth{state="waiting"}',
      'mailaudit_audit_duration_seconds_bucket{le="1"}',
      'mailaudit_dns_queries_total',
      'mailaudit_probes_total{outcome="open"}',
    ]) {
      assert.ok(text.includes(m), m);
    }
    assert.match(text, /mailaudit_dns_queries_total [1-9]/);
  });

  it('serves an OpenAPI 3 document covering every route, and the docs page', async () => {
    const doc = (await call('GET', '/openapi.json')).json();
    assert.equal(doc.openapi, '3.1.0');
    for (const p of [
      '/v1/audits',
      '/v1/audits/{id}',
      '/v1/domains',
      '/v1/domains/{domain}',
      '/v1/domains/{domain}/reports',
      '/v1/domains/{domain}/latest',
      '/v1/domains/{domain}/diff',
      '/healthz',
      '/readyz',
    ]) {
      assert.ok(doc.paths[p], p);
    }
    assert.ok(doc.paths['/v1/audits'].post.requestBody);
    const docs = await call('GET', '/docs/');
    assert.equal(docs.statusCode, 200);
  });
});
