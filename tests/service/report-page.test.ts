/**
 * The report page's test messages, against the real Postgres: a report shows the domain's test
 * messages received before its next report (all of them up to now for the latest), never another
 * tenant's.
 */
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import type { Report } from '@mailaudit/engine';
import { ensureLab } from '@mailaudit/lab';
import { reportLinkToken } from '@mailaudit/render';
import { completeAudit, createAudits, getReportByAudit, saveMessageTest } from '@mailaudit/store';
import { createTestService, type TestService } from './setup.js';

let svc: TestService;

const report = (startedAt: string): Report => ({
  schema: 'mailaudit.report/1',
  domain: 'tests.example',
  startedAt,
  durationMs: 1,
  score: 100,
  grade: 'A+',
  outcome: 'complete',
  scoringVersion: 2,
  categories: [],
  findings: [],
  evidence: {},
});

async function addReport(tenantId: string, startedAt: string): Promise<string> {
  return svc.sql.begin(async (tx) => {
    const [audit] = await createAudits(tx, tenantId, [{ domain: 'tests.example', options: {} }]);
    if (!audit) throw new Error('no audit');
    await completeAudit(tx, { id: audit.id, tenantId, domain: 'tests.example' }, report(startedAt));
    return (await getReportByAudit(tx, tenantId, audit.id))?.id as string;
  });
}

async function addMessage(tenantId: string, from: string, dkim: string) {
  await saveMessageTest(svc.sql, {
    tenantId,
    domain: 'tests.example',
    testAddressId: null,
    receivedAt: new Date(),
    clientIp: '192.0.2.25',
    helo: 'mx.tests.example',
    mailFrom: from,
    headerFrom: from,
    tlsVersion: null,
    spf: 'pass',
    dkim,
    dmarc: 'pass',
    arc: 'none',
    selectorsAdded: [],
    result: { findings: [] },
  });
}

async function page(reportId: string) {
  const res = await svc.app.inject({
    url: `/r/${reportId}?t=${reportLinkToken('test-report-link-secret', reportId)}&lang=en`,
  });
  assert.equal(res.statusCode, 200, res.body);
  return res.body;
}

before(async () => {
  svc = await createTestService(await ensureLab());
});

after(async () => {
  await svc?.close();
});

describe('test messages on the report page', () => {
  it("shows those received before the domain's next report, the newest first, and no other tenant's", async () => {
    const t = await svc.tenant('tests');
    const other = await svc.tenant('other');
    const first = await addReport(t.id, '2026-12-01T03:00:00.000Z');
    assert.ok(!(await page(first)).includes('h-message-tests'), 'no test message yet: no section');
    await addMessage(t.id, 'one@tests.example', 'none');
    await addMessage(other.id, 'stranger@tests.example', 'fail');
    const second = await addReport(t.id, '2026-12-02T03:00:00.000Z');
    await addMessage(t.id, 'two@tests.example', 'pass');

    const p1 = await page(first);
    assert.match(p1, /What the test message sent to your test address showed/);
    assert.match(p1, /one@tests\.example/);
    assert.ok(!p1.includes('two@tests.example'), 'a message after the next report belongs to that one');
    assert.ok(!p1.includes('stranger@'));
    const p2 = await page(second);
    assert.match(p2, /latest of the 2 test messages sent/);
    assert.match(p2, /two@tests\.example/);
    assert.match(p2, /<dt>DKIM<\/dt><dd class="auth-pass">pass<\/dd>/);
    assert.ok(!p2.includes('stranger@'));
  });
});
