/**
 * The emails in real Chromium: two nights of the real worker on lab domains (one regresses in
 * between), mailed through a real SMTP server to two recipients, one reading English and one
 * Turkish. The HTML parts as received are opened at phone and desktop widths: the tenant's brand,
 * regressions first, links to the report pages, the overview and the manage page; no console
 * error, no request leaving 127.0.0.1, no serious or critical axe-core violation. The manage link
 * opens the unsubscribe page, whose button POSTs. Screenshots go beside the pages' ones.
 */
import assert from 'node:assert/strict';
import { createServer, type Server } from 'node:http';
import { after, before, describe, it } from 'node:test';
import { readEnv, toConfig } from '@mailaudit/config';
import { ensureLab, setVariant } from '@mailaudit/lab';
import { createWorkerContext, type RunningWorker, runNightly, startWorker } from '@mailaudit/worker';
import { type ParsedMail, simpleParser } from 'mailparser';
import { SMTPServer } from 'smtp-server';
import { createTestService, eventually, type TestService } from '../service/setup.js';
import { axeViolations, type Harness, launch, open, screenshot, type Visit, WIDTHS } from './browser.js';

const LOGO = `data:image/svg+xml;base64,${Buffer.from(
  '<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 32 32"><rect width="32" height="32" rx="6" fill="#0f766e"/><path d="M7 11h18v11H7z" fill="none" stroke="#fff" stroke-width="2"/><path d="M7 11l9 7 9-7" fill="none" stroke="#fff" stroke-width="2"/></svg>',
).toString('base64')}`;
const BRAND = {
  productName: 'Örnek Posta Kontrol',
  accentColor: '#0f766e',
  logo: LOGO,
  footerText: 'Örnek Hosting A.Ş. · İstanbul',
  supportUrl: 'https://destek.ornek.example/',
  senderName: 'Örnek Posta Kontrol',
  senderAddress: 'rapor@ornek.example',
};
const DOMAINS = ['good.test', 'nightly-regress.test', 'dmarc-none.test'];
const READER = { en: 'ops@ornek.example', tr: 'ayse@ornek.example' } as const;

let svc: TestService;
let h: Harness;
let base = '';
let smtp: SMTPServer;
let mailServer: Server;
let mailBase = '';
let worker: RunningWorker | undefined;
const mails: ParsedMail[] = [];
/** The HTML parts served to the browser, by path. */
const served = new Map<string, string>();

async function night(tenantId: string, at: string) {
  const run = await runNightly((worker as RunningWorker).ctx, { tenantId, trigger: 'schedule', at });
  assert.ok(run);
  await eventually(
    `night ${at}`,
    async () => {
      const [r] = await svc.sql<{ status: string; pending: number }[]>`
        select (select status from nightly_runs where id = ${run.id}) as status,
          (select count(*)::int from emails where tenant_id = ${tenantId} and status = 'pending') as pending`;
      return r?.status === 'done' && r.pending === 0 ? true : undefined;
    },
    120_000,
  );
}

const toOf = (m: ParsedMail) => (m.to && !Array.isArray(m.to) ? m.to.value.map((v) => v.address) : []);

before(async () => {
  const lab = await ensureLab();
  await setVariant('base');
  svc = await createTestService(lab);
  smtp = new SMTPServer({
    authOptional: true,
    hideSTARTTLS: true,
    disableReverseLookup: true,
    logger: false,
    onData(stream, _session, cb) {
      simpleParser(stream)
        .then((m) => {
          mails.push(m);
          cb();
        })
        .catch(cb);
    },
  });
  const smtpPort = await new Promise<number>((resolve) =>
    smtp.listen(0, '127.0.0.1', () => resolve((smtp.server.address() as { port: number }).port)),
  );
  mailServer = createServer((req, res) => {
    const body = served.get(req.url ?? '');
    if (!body) return res.writeHead(404).end();
    res.writeHead(200, { 'content-type': 'text/html; charset=utf-8' }).end(body);
  });
  await new Promise<void>((r) => mailServer.listen(0, '127.0.0.1', () => r()));
  mailBase = `http://127.0.0.1:${(mailServer.address() as { port: number }).port}`;
  await svc.app.listen({ port: 0, host: '127.0.0.1' });
  base = `http://127.0.0.1:${(svc.app.server.address() as { port: number }).port}`;

  const tenant = await svc.tenant('Örnek Hosting');
  const key = await tenant.key();
  const call = (method: string, url: string, body: unknown) =>
    svc.app.inject({
      method: method as 'PUT',
      url,
      headers: { authorization: `Bearer ${key}`, 'content-type': 'application/json' },
      payload: JSON.stringify(body),
    });
  assert.equal((await call('PUT', '/v1/settings/branding', BRAND)).statusCode, 200);
  assert.equal((await call('PUT', '/v1/settings', { nightlyWindowMinutes: 0 })).statusCode, 200);
  for (const d of DOMAINS) {
    const put = await call('PUT', `/v1/domains/${d}`, {
      nightly: true,
      recipients: [READER.en, READER.tr],
      recipientLocales: { [READER.tr]: 'tr' },
    });
    assert.equal(put.statusCode, 201, put.body);
  }
  // The links in the emails lead to this API, on 127.0.0.1.
  const config = toConfig(readEnv({ ...svc.workerEnv, SMTP_URL: `smtp://127.0.0.1:${smtpPort}`, PUBLIC_URL: base }));
  worker = await startWorker(config, createWorkerContext(config));
  await night(tenant.id, '2026-12-01T02:00:00Z');
  await setVariant('regressed');
  await night(tenant.id, '2026-12-02T02:00:00Z');
  for (const lang of ['en', 'tr'] as const) {
    const mine = mails.filter((m) => toOf(m).includes(READER[lang]));
    const summary = mine.find((m) => / 2026-12-02: /.test(m.subject ?? ''));
    const alert = mine.find((m) => /nightly-regress\.test/.test(m.subject ?? '') && !/2026-12/.test(m.subject ?? ''));
    assert.ok(summary && alert, `${lang}: the summary and the alert of night 2 among ${mine.map((m) => m.subject)}`);
    served.set(`/summary-${lang}.html`, String(summary.html));
    served.set(`/alert-${lang}.html`, String(alert.html));
  }
  h = await launch();
});

after(async () => {
  await h?.close();
  await worker?.close().catch(() => {});
  await svc?.close();
  await new Promise<void>((r) => smtp.close(() => r()));
  mailServer?.close();
  await setVariant('base');
});

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

describe('the emails in Chromium', () => {
  for (const lang of ['en', 'tr'] as const) {
    for (const width of WIDTHS) {
      it(`the summary email in ${lang} at ${width} px`, async () => {
        const what = `summary ${lang} ${width}`;
        const v = await open(h, `${mailBase}/summary-${lang}.html`, { width });
        try {
          assert.equal(await v.page.getAttribute('html', 'lang'), lang);
          const header = (await v.page.locator('td.brand-cell').textContent()) ?? '';
          assert.match(header, /Örnek Posta Kontrol/);
          assert.ok(!/mailaudit/i.test((await v.page.content()) + (await v.page.title())), 'never our name');
          assert.equal(
            await v.page.evaluate("getComputedStyle(document.querySelector('td.brand-cell')).backgroundColor"),
            'rgb(15, 118, 110)',
          );
          // The logo from our own origin (the API's), loaded.
          const logo = v.page.locator('img.logo');
          assert.match((await logo.getAttribute('src')) ?? '', new RegExp(`^${base}/brand/[0-9a-f-]+/logo\\?v=`));
          assert.ok((await logo.evaluate((img) => (img as unknown as { naturalWidth: number }).naturalWidth)) > 0);
          // Regressions first.
          const first = v.page.locator('h2').first();
          assert.equal(await first.getAttribute('class'), 'section-worse');
          assert.match((await first.textContent()) ?? '', lang === 'tr' ? /Kötüleşenler/ : /Got worse/);
          const domains = await v.page.locator('h2 ~ p a').allTextContents();
          assert.equal(domains[0], 'nightly-regress.test', 'the regressed domain is the first one named');
          // Every link is to the report pages, the overview, the manage page or the tenant's support.
          const hrefs = await v.page.locator('a').evaluateAll((as) => as.map((a) => a.getAttribute('href') ?? ''));
          const table = v.page.locator('table.domains tbody td:first-child a');
          assert.deepEqual((await table.allTextContents()).sort(), [...DOMAINS].sort(), 'every domain in the table');
          for (const href of await table.evaluateAll((as) => as.map((a) => a.getAttribute('href') ?? '')))
            assert.ok(href.startsWith(`${base}/r/`), `${href}: a report page`);
          assert.ok(
            hrefs.some((u) => u.startsWith(`${base}/o/`)),
            'the overview',
          );
          assert.ok(
            hrefs.some((u) => u.startsWith(`${base}/u/`)),
            'the manage page',
          );
          assert.ok(
            hrefs.every((u) => u.startsWith(`${base}/`) || u === BRAND.supportUrl),
            hrefs.join(' '),
          );
          // A report link opens its page, in the reader's language.
          const report = hrefs.find((u) => u.startsWith(`${base}/r/`)) as string;
          assert.match(report, new RegExp(`&lang=${lang}$`));
          await assertClean(v, what);
          await screenshot(v.page, `email-summary-${lang}-${width}`);
        } finally {
          await v.context.close();
        }
      });

      it(`the alert email in ${lang} at ${width} px`, async () => {
        const v = await open(h, `${mailBase}/alert-${lang}.html`, { width });
        try {
          assert.match(
            (await v.page.locator('h1').textContent()) ?? '',
            lang === 'tr'
              ? /nightly-regress\.test bir kara listeye girdi/
              : /nightly-regress\.test appeared on a blocklist/,
          );
          await assertClean(v, `alert ${lang} ${width}`);
          await screenshot(v.page, `email-alert-${lang}-${width}`);
        } finally {
          await v.context.close();
        }
      });
    }

    it(`the manage link opens the unsubscribe page in ${lang}, whose button unsubscribes and resubscribes`, async () => {
      const v = await open(h, `${mailBase}/summary-${lang}.html`, { width: 375 });
      try {
        const manage = v.page.locator(`a[href^="${base}/u/"]`);
        await manage.click();
        await v.page.waitForURL(`${base}/u/**`);
        assert.equal(await v.page.getAttribute('html', 'lang'), lang);
        assert.match((await v.page.locator('main').textContent()) ?? '', new RegExp(READER[lang].replace('.', '\\.')));
        await assertClean(v, `unsubscribe page ${lang}`);
        await screenshot(v.page, `unsubscribe-${lang}-375`);
        const [opted] = await svc.sql<{ n: number }[]>`select count(*)::int as n from email_opt_outs`;
        assert.equal(opted?.n, 0, 'opening the page changed nothing');
        await v.page.locator('form button').click();
        await v.page.waitForLoadState('load');
        assert.match(
          (await v.page.locator('[role="status"]').textContent()) ?? '',
          lang === 'tr' ? /aboneliği iptal edildi/ : /is unsubscribed/,
        );
        const [row] = await svc.sql<{ address: string }[]>`select address from email_opt_outs`;
        assert.equal(row?.address, READER[lang]);
        await assertClean(v, `unsubscribed page ${lang}`);
        await screenshot(v.page, `unsubscribed-${lang}-375`);
        await v.page.locator('form button').click();
        await v.page.waitForLoadState('load');
        const [left] = await svc.sql<{ n: number }[]>`select count(*)::int as n from email_opt_outs`;
        assert.equal(left?.n, 0, 'subscribed again');
      } finally {
        await v.context.close();
      }
    });
  }
});
