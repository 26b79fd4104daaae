/**
 * Languages in the service, against the real Postgres: the tenant's default locale (settings),
 * each recipient's own (domains), and Accept-Language choosing the language of the findings'
 * `message` fields in API answers, codes and params unchanged.
 */
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import type { Report } from '@mailaudit/engine';
import { ensureLab } from '@mailaudit/lab';
import { overviewLinkToken, reportLinkToken } from '@mailaudit/render';
import { completeAudit, createAudits, getReportByAudit, nightlyDomains } from '@mailaudit/store';
import { createTestService, type TestService } from './setup.js';

let svc: TestService;
let key: string;
let tenantId: string;

function call(method: string, url: string, body?: unknown, headers: Record<string, string> = {}) {
  return svc.app.inject({
    method: method as 'GET',
    url,
    headers: {
      authorization: `Bearer ${key}`,
      ...(body !== undefined ? { 'content-type': 'application/json' } : {}),
      ...headers,
    },
    ...(body !== undefined ? { payload: JSON.stringify(body) } : {}),
  });
}

const ENGLISH = 'The SPF record at lang.example does not parse: unknown mechanism "foo".';

const report: Report = {
  schema: 'mailaudit.report/1',
  domain: 'lang.example',
  startedAt: '2026-11-29T03:00:00.000Z',
  durationMs: 10,
  score: 60,
  grade: 'C',
  outcome: 'complete',
  scoringVersion: 1,
  categories: [{ id: 'spf', score: 0, status: 'fail' }],
  findings: [
    {
      code: 'spf.syntax',
      severity: 'critical',
      category: 'spf',
      subject: 'lang.example',
      message: ENGLISH,
      params: {
        reason: 'spf.unknown_mechanism',
        mechanism: 'foo',
        term: 'foo:x.example',
        text: 'v=spf1 foo:x.example -all',
      },
    },
  ],
  evidence: {},
};

before(async () => {
  svc = await createTestService(await ensureLab());
  const t = await svc.tenant('lang');
  tenantId = t.id;
  key = await t.key();
});

after(async () => {
  await svc?.close();
});

describe('languages', () => {
  it("keeps the tenant's default locale in its settings, en until changed, and refuses one we do not speak", async () => {
    assert.equal((await call('GET', '/v1/settings')).json().locale, 'en');
    const put = await call('PUT', '/v1/settings', { locale: 'tr' });
    assert.equal(put.statusCode, 200, put.body);
    assert.equal(put.json().locale, 'tr');
    assert.equal((await call('GET', '/v1/settings')).json().locale, 'tr');
    assert.equal((await call('PUT', '/v1/settings', { locale: 'de' })).statusCode, 400);
    assert.equal((await call('GET', '/v1/settings')).json().locale, 'tr');
  });

  it("keeps each recipient's language, for recipients only", async () => {
    const put = await call('PUT', '/v1/domains/lang.example', {
      recipients: ['ayse@lang.example', 'bob@lang.example'],
      recipientLocales: { 'ayse@lang.example': 'tr' },
    });
    assert.equal(put.statusCode, 201, put.body);
    assert.deepEqual(put.json().recipientLocales, { 'ayse@lang.example': 'tr' });
    const [night] = await nightlyDomains(svc.sql, tenantId);
    assert.deepEqual(night?.recipientLocales, { 'ayse@lang.example': 'tr' });

    const stranger = await call('PUT', '/v1/domains/lang.example', { recipientLocales: { 'eve@lang.example': 'en' } });
    assert.equal(stranger.statusCode, 400, stranger.body);
    assert.match(stranger.json().error.message, /eve@lang\.example is not one of the recipients/);
    assert.equal(
      (await call('PUT', '/v1/domains/lang.example', { recipientLocales: { 'bob@lang.example': 'xx' } })).statusCode,
      400,
    );

    // A recipient who leaves takes their language along; the others keep theirs.
    const fewer = await call('PUT', '/v1/domains/lang.example', { recipients: ['bob@lang.example'] });
    assert.deepEqual(fewer.json().recipientLocales, {});
    const bulk = await call('PUT', '/v1/domains', {
      domains: [
        { domain: 'other.example', recipients: ['can@other.example'], recipientLocales: { 'can@other.example': 'tr' } },
      ],
    });
    assert.equal(bulk.statusCode, 200, bulk.body);
    assert.deepEqual(bulk.json().results[0].item.recipientLocales, { 'can@other.example': 'tr' });
  });

  it("words the findings' messages in the language Accept-Language asks for", async () => {
    await svc.sql.begin(async (tx) => {
      const [audit] = await createAudits(tx, tenantId, [{ domain: 'lang.example', options: {} }]);
      if (!audit) throw new Error('no audit');
      await completeAudit(tx, { id: audit.id, tenantId, domain: 'lang.example' }, report);
    });
    const tr = await call('GET', '/v1/domains/lang.example/latest', undefined, {
      'accept-language': 'de-DE,tr;q=0.8,en;q=0.5',
    });
    assert.equal(tr.statusCode, 200, tr.body);
    assert.equal(tr.headers['content-language'], 'tr');
    assert.match(String(tr.headers.vary), /Accept-Language/i);
    const [f] = tr.json().report.findings;
    assert.equal(f.message, 'SPF kaydı okunamıyor: "foo" diye bir mekanizma yok ("foo:x.example" teriminde).');
    assert.equal(f.code, 'spf.syntax');
    assert.deepEqual(f.params, report.findings[0]?.params);

    const en = await call('GET', '/v1/domains/lang.example/latest', undefined, { 'accept-language': 'en-GB' });
    assert.equal(
      en.json().report.findings[0].message,
      'The SPF record cannot be read: the mechanism "foo" does not exist (in the term "foo:x.example").',
    );
    for (const headers of [{}, { 'accept-language': 'de' }] as Record<string, string>[]) {
      const stored = await call('GET', '/v1/domains/lang.example/latest', undefined, headers);
      assert.equal(stored.json().report.findings[0].message, ENGLISH);
      assert.equal(stored.headers['content-language'], undefined);
    }
    const auditId = tr.json().auditId as string;
    const viaAudit = await call('GET', `/v1/audits/${auditId}`, undefined, { 'accept-language': 'tr' });
    assert.match(viaAudit.json().report.findings[0].message, /mekanizma yok/);
  });

  it("chooses the pages' language: ?lang=, then the tenant's default, then Accept-Language, then English", async () => {
    const other = await svc.tenant('pages-lang');
    const otherKey = await other.key(['read', 'audit', 'admin']);
    const reportId = await svc.sql.begin(async (tx) => {
      const [audit] = await createAudits(tx, other.id, [{ domain: 'lang.example', options: {} }]);
      if (!audit) throw new Error('no audit');
      await completeAudit(tx, { id: audit.id, tenantId: other.id, domain: 'lang.example' }, report);
      return (await getReportByAudit(tx, other.id, audit.id))?.id as string;
    });
    const secret = 'test-report-link-secret';
    const expires = Math.floor(Date.now() / 1000) + 3600;
    const pages = {
      report: `/r/${reportId}?t=${reportLinkToken(secret, reportId)}`,
      overview: `/o/${other.id}?e=${expires}&t=${overviewLinkToken(secret, other.id, expires)}`,
    };
    const langOf = async (url: string, acceptLanguage?: string) => {
      const res = await svc.app.inject({ url, headers: acceptLanguage ? { 'accept-language': acceptLanguage } : {} });
      assert.ok(res.statusCode === 200 || res.statusCode === 404, `${url}: ${res.statusCode}`);
      return /<html lang="(\w+)">/.exec(res.body)?.[1];
    };
    const setDefault = async (locale: string) => {
      const put = await svc.app.inject({
        method: 'PUT',
        url: '/v1/settings',
        headers: { authorization: `Bearer ${otherKey}`, 'content-type': 'application/json' },
        payload: JSON.stringify({ locale }),
      });
      assert.equal(put.statusCode, 200, put.body);
    };
    for (const url of Object.values(pages)) {
      await setDefault('tr');
      assert.equal(await langOf(url), 'tr', `${url}: the tenant's default`);
      assert.equal(await langOf(url, 'en-US,en;q=0.9'), 'tr', `${url}: the tenant's default over the browser's`);
      assert.equal(await langOf(`${url}&lang=en`, 'tr'), 'en', `${url}: ?lang= over everything`);
      await setDefault('en');
      assert.equal(await langOf(url, 'tr-TR'), 'en', `${url}: the tenant's default en`);
      assert.equal(await langOf(`${url}&lang=tr`), 'tr', `${url}: ?lang=`);
      assert.equal(await langOf(`${url}&lang=de`, 'de'), 'en', `${url}: a language we do not speak`);
    }
    // No tenant is known behind a broken link: the browser's language, else English.
    const broken = pages.report.replace(/t=.{4}/, 't=AAAA');
    assert.equal(await langOf(broken, 'de-DE,tr;q=0.8'), 'tr');
    assert.equal(await langOf(broken, 'de'), 'en');
    assert.equal(await langOf(`${broken}&lang=tr`, 'en'), 'tr');
  });
});
