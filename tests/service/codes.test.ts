/**
 * GET /v1/codes: every finding code of the engine and every category, with the catalogue's texts
 * in the language asked (`lang`, else Accept-Language, else English).
 */
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { CATEGORY_IDS, CODES } from '@mailaudit/engine';
import { ensureLab } from '@mailaudit/lab';
import { createTestService, type TestService } from './setup.js';

let svc: TestService;
let key: string;

before(async () => {
  svc = await createTestService(await ensureLab());
  key = await (await svc.tenant('codes')).key(['read']);
});

after(async () => {
  await svc?.close();
});

const get = (url: string, headers: Record<string, string> = {}) =>
  svc.app.inject({ url, headers: { authorization: `Bearer ${key}`, ...headers } });

describe('GET /v1/codes', () => {
  it('lists every code with its severity, category and English texts, and every category', async () => {
    const res = await get('/v1/codes');
    assert.equal(res.statusCode, 200, res.body);
    const body = res.json();
    assert.equal(body.locale, 'en');
    assert.equal(res.headers['content-language'], 'en');
    assert.deepEqual(
      body.codes.map((c: { code: string }) => c.code),
      Object.keys(CODES),
    );
    const none = body.codes.find((c: { code: string }) => c.code === 'dmarc.policy.none');
    assert.equal(none.severity, 'warning');
    assert.equal(none.category, 'dmarc');
    assert.ok(none.title.length > 0 && none.title !== 'dmarc.policy.none');
    assert.ok(none.fix.length > 0);
    for (const c of body.codes) assert.notEqual(c.title, c.code, `${c.code} has a title`);
    assert.deepEqual(
      body.categories.map((c: { id: string }) => c.id),
      [...CATEGORY_IDS],
    );
  });

  it('speaks Turkish by lang or by Accept-Language, and refuses a language it has not', async () => {
    const en = (await get('/v1/codes')).json();
    const tr = (await get('/v1/codes?lang=tr')).json();
    assert.equal(tr.locale, 'tr');
    const title = (b: { codes: { code: string; title: string }[] }) =>
      b.codes.find((c) => c.code === 'spf.missing')?.title;
    assert.notEqual(title(tr), title(en));
    const byHeader = await get('/v1/codes', { 'accept-language': 'tr-TR,tr;q=0.9,en;q=0.5' });
    assert.equal(byHeader.json().locale, 'tr');
    assert.equal(title(byHeader.json()), title(tr));
    const bad = await get('/v1/codes?lang=xx');
    assert.equal(bad.statusCode, 400);
    assert.equal(bad.json().error.field, '/query/lang');
  });

  it('serves the report JSON Schema without a key', async () => {
    const res = await svc.app.inject({ url: '/v1/schemas/report.json' });
    assert.equal(res.statusCode, 200, res.body);
    assert.match(String(res.headers['content-type']), /application\/schema\+json/);
    const schema = res.json();
    assert.equal(schema.properties.schema.const, 'mailaudit.report/1');
    assert.ok(schema.required.includes('findings'));
  });
});
