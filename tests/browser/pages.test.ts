/**
 * The pages customers see, in real Chromium: report pages of lab domains audited by the real
 * worker, in English and Turkish, at phone and desktop widths. Copy buttons copy, evidence
 * sections open, nothing is logged as an error (a CSP violation would be), no request leaves
 * 127.0.0.1, and axe-core finds no serious or critical accessibility problem. Screenshots go to
 * tests/browser/screenshots/.
 */
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { analyzeMessage, Resolver } from '@mailaudit/engine';
import { ensureLab, GOOD_MX, LAB_NET, type LabInfo } from '@mailaudit/lab';
import { reportLinkToken } from '@mailaudit/render';
import { getReportByAudit, saveMessageTest } from '@mailaudit/store';
import { createTestService, eventually, type TestService } from '../service/setup.js';
import { axeViolations, type Harness, launch, open, screenshot, type Visit, WIDTHS } from './browser.js';

const SECRET = 'test-report-link-secret';
const DOMAINS = [
  'good.test',
  'cert-expired.test',
  'spf-all-pass.test',
  'dmarc-none.test',
  'mta-sts-missing.test',
] as const;

const LOGO = `data:image/svg+xml;base64,${Buffer.from(
  '<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 32 32"><rect width="32" height="32" rx="6" fill="#0f766e"/><path d="M7 11h18v11H7z" fill="none" stroke="#fff" stroke-width="2"/><path d="M7 11l9 7 9-7" fill="none" stroke="#fff" stroke-width="2"/></svg>',
).toString('base64')}`;
const BRAND = {
  productName: 'Örnek Posta Kontrol',
  accentColor: '#0f766e',
  logo: LOGO,
  footerText: 'Örnek Hosting A.Ş. · İstanbul',
  supportUrl: 'https://destek.ornek.example/',
};

let lab: LabInfo;
let svc: TestService;
let h: Harness;
let base = '';
let overview = '';
let tenantId = '';
const links = new Map<string, string>();

async function audit(tenantId: string, key: string, domain: string): Promise<string> {
  const res = await svc.app.inject({
    method: 'POST',
    url: '/v1/audits',
    headers: { authorization: `Bearer ${key}`, 'content-type': 'application/json' },
    payload: JSON.stringify({ domain }),
  });
  assert.equal(res.statusCode, 202, res.body);
  const id = res.json().id as string;
  const row = await eventually(`report of ${domain}`, () => getReportByAudit(svc.sql, tenantId, id), 60_000);
  return row.id;
}

/**
 * A test message of `domain` as mailaudit inbound stores one: unsigned, from the domain's mail
 * host's address, analysed by the engine against the lab's DNS.
 */
async function sendTestMessage(tenantId: string, domain: string) {
  const resolver = new Resolver({ servers: [lab.resolver] });
  try {
    const ip = `${LAB_NET}.1.1`;
    const message = Buffer.from(
      `From: Ayşe <ayse@${domain}>\r\nTo: t@inbound.test\r\nSubject: test\r\nDate: ${new Date().toUTCString()}\r\nMessage-ID: <1@${domain}>\r\n\r\nMerhaba\r\n`,
    );
    const report = await analyzeMessage(
      { message, ip, helo: GOOD_MX, mailFrom: `ayse@${domain}`, tls: { version: 'TLSv1.3' }, domain },
      { allowPrivateTargets: true, ipBlocklists: lab.ipBlocklists },
      { dns: resolver, now: () => new Date() },
    );
    await saveMessageTest(svc.sql, {
      tenantId,
      domain,
      testAddressId: null,
      receivedAt: new Date(),
      clientIp: ip,
      helo: GOOD_MX,
      mailFrom: `ayse@${domain}`,
      headerFrom: report.headers.from[0] ?? null,
      tlsVersion: 'TLSv1.3',
      spf: report.spf.result,
      dkim: report.dkim.length ? (report.dkim[0]?.result ?? 'none') : 'none',
      dmarc: report.dmarc.result,
      arc: report.arc.result,
      selectorsAdded: [],
      result: report,
    });
  } finally {
    resolver.close();
  }
}

before(async () => {
  lab = await ensureLab();
  svc = await createTestService(lab);
  const tenant = await svc.tenant('Örnek Hosting');
  const key = await tenant.key();
  tenantId = tenant.id;
  const branded = await svc.app.inject({
    method: 'PUT',
    url: '/v1/settings/branding',
    headers: { authorization: `Bearer ${key}`, 'content-type': 'application/json' },
    payload: JSON.stringify(BRAND),
  });
  assert.equal(branded.statusCode, 200, branded.body);
  await svc.startWorker();
  for (const d of DOMAINS) {
    const put = await svc.app.inject({
      method: 'PUT',
      url: `/v1/domains/${d}`,
      headers: { authorization: `Bearer ${key}`, 'content-type': 'application/json' },
      payload: JSON.stringify({ nightly: false }),
    });
    assert.ok(put.statusCode < 300, put.body);
  }
  const link = await svc.app.inject({
    method: 'POST',
    url: '/v1/overview-link',
    headers: { authorization: `Bearer ${key}`, 'content-type': 'application/json' },
    payload: JSON.stringify({ days: 7 }),
  });
  assert.equal(link.statusCode, 200, link.body);
  overview = new URL(link.json().url as string).pathname + new URL(link.json().url as string).search;
  // Two audits of one domain, so that its page has a score history to draw.
  await audit(tenant.id, key, 'spf-all-pass.test');
  for (const d of DOMAINS) {
    const id = await audit(tenant.id, key, d);
    links.set(d, `/r/${id}?t=${reportLinkToken(SECRET, id)}`);
  }
  await sendTestMessage(tenant.id, 'dmarc-none.test');
  await svc.app.listen({ port: 0, host: '127.0.0.1' });
  const addr = svc.app.server.address() as { port: number };
  base = `http://127.0.0.1:${addr.port}`;
  h = await launch();
});

after(async () => {
  await h?.close();
  await svc?.close();
});

/** What every page must satisfy, whatever it shows. */
async function assertClean(v: Visit, what: string) {
  assert.deepEqual(v.errors, [], `${what}: console errors`);
  assert.deepEqual(v.outside, [], `${what}: requests that left 127.0.0.1`);
  const violations = await axeViolations(v.page);
  assert.deepEqual(
    violations.map((x) => `${x.id} (${x.impact}): ${x.help} at ${x.nodes.map((n) => n.target.join(' ')).join(', ')}`),
    [],
    `${what}: axe-core serious or critical violations`,
  );
}

async function assertCopyButtons(v: Visit, what: string, done: string) {
  const buttons = v.page.locator('button.copy');
  const n = await buttons.count();
  for (let i = 0; i < n; i++) {
    const b = buttons.nth(i);
    assert.ok(await b.isVisible(), `${what}: copy button ${i} is shown when JavaScript runs`);
    const target = await b.getAttribute('data-copy');
    const want = await v.page.locator(`[id="${target}"]`).textContent();
    await b.click();
    // The button says it copied (for a few seconds).
    await v.page.waitForFunction(([el, text]) => (el as unknown as { textContent: string }).textContent === text, [
      await b.elementHandle(),
      done,
    ] as const);
    assert.equal(await v.page.evaluate('navigator.clipboard.readText()'), want, `${what}: clipboard`);
  }
  return n;
}

async function assertSectionsOpen(v: Visit, what: string) {
  const sections = v.page.locator('details.evidence');
  const n = await sections.count();
  assert.ok(n > 0, `${what}: evidence sections`);
  for (let i = 0; i < n; i++) {
    const d = sections.nth(i);
    assert.equal(await d.evaluate((el) => (el as unknown as { open: boolean }).open), false);
    await d.locator('summary').click();
    assert.equal(
      await d.evaluate((el) => (el as unknown as { open: boolean }).open),
      true,
      `${what}: section ${i} opens`,
    );
    assert.ok(await d.locator('dl, table').first().isVisible(), `${what}: section ${i} shows its content`);
  }
}

describe('report pages in Chromium', () => {
  for (const lang of ['en', 'tr'] as const) {
    for (const width of WIDTHS) {
      it(`report pages in ${lang} at ${width} px`, async () => {
        for (const domain of DOMAINS) {
          const what = `${domain} ${lang} ${width}`;
          const v = await open(h, `${base}${links.get(domain)}&lang=${lang}`, { width });
          try {
            assert.equal(await v.page.getAttribute('html', 'lang'), lang);
            assert.equal(await v.page.locator('h1').textContent(), domain);
            // The tenant's brand, never ours.
            assert.equal(await v.page.locator('.brand-name').textContent(), BRAND.productName);
            // The tenant's logo, loaded from our own origin.
            const logo = v.page.locator('header.brand img.logo');
            assert.match((await logo.getAttribute('src')) ?? '', /^\/brand\/[0-9a-f-]{36}\/logo\?v=/);
            assert.ok(
              await logo.evaluate((el) => (el as unknown as { naturalWidth: number }).naturalWidth > 0),
              `${what}: the logo is shown`,
            );
            assert.match((await v.page.locator('footer').textContent()) ?? '', /Örnek Hosting A\.Ş\. · İstanbul/);
            assert.ok(!/mailaudit/i.test(await v.page.title()), 'the title does not say mailaudit');
            assert.equal(
              await v.page.evaluate("getComputedStyle(document.querySelector('header.brand')).backgroundColor"),
              'rgb(15, 118, 110)',
            );
            assert.match(
              (await v.page.locator('#h-evidence').textContent()) ?? '',
              lang === 'tr' ? /Teknik ayrıntılar/ : /Technical details/,
            );
            const copies = await assertCopyButtons(v, what, lang === 'tr' ? 'Kopyalandı' : 'Copied');
            if (domain === 'spf-all-pass.test' || domain === 'dmarc-none.test')
              assert.ok(copies > 0, `${what}: a suggested record to copy`);
            if (domain === 'mta-sts-missing.test') {
              // The policy file to serve first, its address and content, then the record (issue 10, item 7).
              assert.equal(copies, 2, `${what}: the policy file and the record to copy`);
              const file = v.page.locator('.fix-file');
              assert.match(
                (await file.locator('dd code').textContent()) ?? '',
                /^https:\/\/mta-sts\.mta-sts-missing\.test\/\.well-known\/mta-sts\.txt$/,
              );
              assert.match((await file.locator('pre').textContent()) ?? '', /^version: STSv1\nmode: testing\nmx: /);
              assert.match((await file.locator('.file-note').textContent()) ?? '', /mta-sts\.mta-sts-missing\.test/);
            }
            await assertSectionsOpen(v, what);
            await assertClean(v, what);
            await screenshot(v.page, `report-${domain.replace(/\.test$/, '')}-${lang}-${width}`);
          } finally {
            await v.context.close();
          }
        }
      });
    }
  }

  it('shows one finding for an expired certificate served on four ports, with the ports listed', async () => {
    const v = await open(h, `${base}${links.get('cert-expired.test')}&lang=en`, { width: 1280 });
    try {
      const expired = v.page.locator('li.finding', { hasText: 'tls.cert.expired' });
      assert.equal(await expired.count(), 1);
      assert.match((await expired.locator('.finding-subject').textContent()) ?? '', /ports 110, 143, 993, 995/);
      // The grade line counts it once too, as the list does.
      assert.match((await v.page.locator('.grade-line').textContent()) ?? '', /: 1 critical problem keeps/);
      assert.match((await v.page.locator('h3.sev-critical').textContent()) ?? '', /^1 critical problem$/);
    } finally {
      await v.context.close();
    }
  });

  it("words the evidence in the reader's language and shows its times in the reader's time zone", async () => {
    // The tenant's zone is UTC; the browser's is Europe/Istanbul (UTC+3), where the page's script puts them.
    const v = await open(h, `${base}${links.get('cert-expired.test')}&lang=tr`, { width: 1280 });
    try {
      const ports = (await v.page.locator('#evidence-ports').textContent()) ?? '';
      assert.match(ports, /SMTP \/ STARTTLS/);
      assert.match(ports, /IMAP \/ baştan TLS/);
      assert.match(ports, /açık/);
      assert.ok(!/\b(open|implicit|starttls)\b/.test(ports), ports);
      assert.match((await v.page.locator('#evidence-records').textContent()) ?? '', /RSA 2048 bit/);
      const expiries = await v.page.locator('#evidence-certificates time[data-local]').allTextContents();
      assert.ok(expiries.length >= 2, 'each certificate expiry is a time');
      for (const e of expiries) assert.match(e, /GMT\+3/, `${e}: in the reader's time zone`);
      // The finding's sentence names the day of the expiry as the table does, in the same zone.
      const said =
        (await v.page.locator('li.finding', { hasText: 'tls.cert.expired' }).locator('time').textContent()) ?? '';
      assert.ok(said && expiries.some((e) => e.startsWith(said)), `${said} vs ${expiries.join(' | ')}`);
      assert.match((await v.page.locator('.audited time').textContent()) ?? '', /GMT\+3/);
    } finally {
      await v.context.close();
    }
  });

  it('shows the latest test message of the domain: its results and what to fix', async () => {
    const v = await open(h, `${base}${links.get('dmarc-none.test')}&lang=tr`, { width: 375 });
    try {
      const section = v.page.locator('section.message-tests');
      const text = (await section.textContent()) ?? '';
      assert.match(text, /Test iletileri/);
      assert.match(text, /gönderilen test iletisinin bize ulaştığında/);
      assert.match(text, /ayse@dmarc-none\.test/);
      assert.match(text, /SPF\s*başarılı/);
      assert.match(text, /DKIM\s*yok/);
      assert.match(text, /TLS 1\.3/);
      assert.match((await section.locator('time[data-local]').textContent()) ?? '', /GMT\+3/);
      assert.ok((await section.locator('li.finding', { hasText: 'message.dkim.missing' }).count()) === 1, text);
      await assertClean(v, 'message tests tr 375');
      assert.equal(await v.page.locator('section.message-tests').count(), 1, 'one section of test messages');
    } finally {
      await v.context.close();
    }
    // A domain without test messages has no such section.
    const other = await open(h, `${base}${links.get('good.test')}&lang=en`, { width: 1280 });
    try {
      assert.equal(await other.page.locator('section.message-tests').count(), 0);
    } finally {
      await other.context.close();
    }
  });

  it('puts the record published now beside the suggested one', async () => {
    const v = await open(h, `${base}${links.get('spf-all-pass.test')}&lang=en`, { width: 1280 });
    try {
      const f = v.page.locator('li.finding', { hasText: 'spf.all.pass' });
      assert.equal(await f.locator('.record.current pre').textContent(), 'v=spf1 mx +all');
      assert.equal(await f.locator('.record.suggested pre').textContent(), 'v=spf1 mx -all');
      assert.equal(await v.page.locator('figure.chart svg circle.point').count(), 2, 'two audits in the history');
      for (const title of await v.page.locator('figure.chart svg circle.point title').allTextContents())
        assert.match(title, /GMT\+3: \d+ \([A-F+]+\)$/, `${title}: in the reader's time zone`);
    } finally {
      await v.context.close();
    }
  });

  it('works without JavaScript: records readable, no copy button shown', async () => {
    const v = await open(h, `${base}${links.get('spf-all-pass.test')}`, { width: 375, javaScript: false });
    try {
      assert.equal(await v.page.locator('button.copy').first().isVisible(), false);
      assert.ok(await v.page.locator('.record.suggested pre').first().isVisible());
      await v.page.locator('details.evidence summary').first().click();
      assert.equal(
        await v.page
          .locator('details.evidence')
          .first()
          .evaluate((el) => (el as unknown as { open: boolean }).open),
        true,
      );
    } finally {
      await v.context.close();
    }
  });

  it('answers a broken or forged link with a page, not JSON', async () => {
    const good = links.get('good.test') as string;
    for (const url of [good.replace(/t=.{4}/, 't=AAAA'), '/r/not-a-uuid?t=x', `${good.split('?')[0]}?`]) {
      const v = await open(h, `${base}${url}&lang=tr`, { width: 375 });
      try {
        const res = await v.page.request.get(`${base}${url}`);
        assert.equal(res.status(), 404);
        assert.match(res.headers()['content-type'] ?? '', /^text\/html/);
        assert.match(res.headers()['content-security-policy'] ?? '', /default-src 'none'/);
        assert.match((await v.page.locator('h1').textContent()) ?? '', /Bu bağlantı çalışmıyor/);
        // Chromium logs the 404 status of the document itself; nothing else may be logged.
        v.errors = v.errors.filter((e) => !/status of 404/.test(e));
        await assertClean(v, url);
      } finally {
        await v.context.close();
      }
    }
    const v = await open(h, `${base}${good.replace(/t=.{4}/, 't=AAAA')}`, { width: 1280 });
    await screenshot(v.page, 'broken-link-en-1280');
    await v.context.close();
  });
});

describe('the overview page in Chromium', () => {
  for (const lang of ['en', 'tr'] as const) {
    for (const width of WIDTHS) {
      it(`lists every domain, sorts and filters, in ${lang} at ${width} px`, async () => {
        const what = `overview ${lang} ${width}`;
        const v = await open(h, `${base}${overview}&lang=${lang}`, { width });
        try {
          const rows = v.page.locator('table.overview tbody tr');
          assert.equal(await rows.count(), DOMAINS.length);
          assert.deepEqual(
            await v.page.locator('table.overview tbody tr td:first-child a').allTextContents(),
            [...DOMAINS].sort(),
          );
          await assertClean(v, what);
          await screenshot(v.page, `overview-${lang}-${width}`);
          // Sort by score, best first, on the server: through the column's link on a desktop, the
          // form on a phone (the table's head is not shown there).
          if (width > 640) await v.page.locator('th a').nth(1).click();
          else {
            await v.page.locator('select#sort').selectOption('score');
            await v.page.locator('select#dir').selectOption('desc');
            await v.page.locator('button.apply').click();
          }
          await v.page.waitForURL(/sort=score/);
          const scores = (await v.page.locator('span.score').allTextContents()).map(Number);
          assert.deepEqual(
            scores,
            [...scores].sort((a, b) => b - a),
            `${what}: sorted by score`,
          );
          // Filter on the grade of the first row only.
          const grade = ((await v.page.locator('.mini-grade').first().textContent()) ?? '').trim();
          await v.page.locator(`input[name="grade"][value="${grade}"]`).check();
          await v.page.locator('button.apply').click();
          await v.page.waitForURL(/grade=/);
          const grades = (await v.page.locator('.mini-grade').allTextContents()).map((g) => g.trim());
          assert.ok(grades.length > 0 && grades.every((g) => g === grade), `${what}: only grade ${grade}`);
          assert.ok(
            await v.page.locator('table.overview tbody tr td:first-child a').first().getAttribute('href'),
            'each domain links to its report page',
          );
          await assertClean(v, `${what} after sorting and filtering`);
        } finally {
          await v.context.close();
        }
      });
    }
  }

  it('answers an expired or forged link with a page', async () => {
    const { overviewLinkToken } = await import('@mailaudit/render');
    const past = Math.floor(Date.now() / 1000) - 60;
    const expired = `/o/${tenantId}?e=${past}&t=${overviewLinkToken(SECRET, tenantId, past)}`;
    const res = await svc.app.inject({ url: expired, headers: { 'accept-language': 'tr' } });
    assert.equal(res.statusCode, 410);
    assert.match(res.body, /Bu bağlantının süresi doldu/);
    const forged = await svc.app.inject({ url: overview.replace(/t=.{4}/, 't=AAAA') });
    assert.equal(forged.statusCode, 404);
    assert.match(String(forged.headers['content-type']), /^text\/html/);
  });
});
