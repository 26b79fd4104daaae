/**
 * One-click unsubscribe (RFC 8058) on the real service: a night mails two recipients of a lab
 * domain through a real SMTP server; the List-Unsubscribe URL is taken from the header of the
 * message one of them received and POSTed as a mail client does. That recipient only is
 * unsubscribed (again and again: idempotent), opening the link changes nothing, and the next night
 * mails the other recipient and not them.
 */
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { readEnv, toConfig } from '@mailaudit/config';
import { ensureLab } from '@mailaudit/lab';
import { createWorkerContext, type RunningWorker, runNightly, startWorker } from '@mailaudit/worker';
import { type ParsedMail, simpleParser } from 'mailparser';
import { SMTPServer } from 'smtp-server';
import { createTestService, eventually, type TestService } from './setup.js';

let svc: TestService;
let smtp: SMTPServer;
let smtpPort = 0;
const mails: ParsedMail[] = [];
let clock = new Date('2026-12-01T02:00:00Z');
const workers: RunningWorker[] = [];

const ANA = 'ana@customer.test';
const BORA = 'Bora@customer.test';

before(async () => {
  svc = await createTestService(await ensureLab());
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
  smtpPort = await new Promise<number>((resolve) =>
    smtp.listen(0, '127.0.0.1', () => resolve((smtp.server.address() as { port: number }).port)),
  );
});

after(async () => {
  for (const w of workers) await w.close().catch(() => {});
  await svc?.close();
  await new Promise<void>((r) => smtp.close(() => r()));
});

async function api(method: string, url: string, key: string, body?: unknown) {
  return svc.app.inject({
    method: method as 'GET',
    url,
    headers: { authorization: `Bearer ${key}`, ...(body ? { 'content-type': 'application/json' } : {}) },
    ...(body ? { payload: JSON.stringify(body) } : {}),
  });
}

async function night(tenantId: string, at: string): Promise<ParsedMail[]> {
  clock = new Date(at);
  const before = mails.length;
  const w = workers[0] as RunningWorker;
  const run = await runNightly(w.ctx, { tenantId, trigger: 'schedule', at: clock.toISOString() });
  assert.ok(run);
  await eventually(
    `run ${run.id}`,
    async () => {
      const [r] = await svc.sql<{ status: string; pending: number }[]>`
        select (select status from nightly_runs where id = ${run.id}) as status,
          (select count(*)::int from emails where nightly_run_id = ${run.id} and status = 'pending') as pending`;
      return r?.status === 'done' && r.pending === 0 ? true : undefined;
    },
    90_000,
  );
  return mails.slice(before);
}

const toOf = (m: ParsedMail) => (m.to && !Array.isArray(m.to) ? m.to.value.map((v) => v.address) : []);
/** A header as it came on the wire (mailparser turns List-* headers into objects). */
const rawHeader = (m: ParsedMail, name: string) =>
  m.headerLines
    .find((h) => h.key === name)
    ?.line.slice(name.length + 1)
    .trim();

describe('one-click unsubscribe', () => {
  it('unsubscribes that recipient only, idempotently, never on GET; the next night mails the other one only', async () => {
    const tenant = await svc.tenant('Customer Hosting');
    const key = await tenant.key();
    assert.equal(
      (
        await api('PUT', '/v1/settings/branding', key, {
          productName: 'Posta Kontrol',
          senderName: 'Posta Kontrol',
          senderAddress: 'rapor@hosting.test',
        })
      ).statusCode,
      200,
    );
    assert.equal((await api('PUT', '/v1/settings', key, { nightlyWindowMinutes: 0 })).statusCode, 200);
    const put = await api('PUT', '/v1/domains/good.test', key, {
      nightly: true,
      recipients: [ANA, BORA],
      recipientLocales: { [BORA]: 'tr' },
    });
    assert.equal(put.statusCode, 201, put.body);

    const config = toConfig(
      readEnv({
        ...svc.workerEnv,
        SMTP_URL: `smtp://127.0.0.1:${smtpPort}`,
        MAIL_FROM: 'noreply@operator.test',
        PUBLIC_URL: 'https://panel.example',
      }),
    );
    workers.push(await startWorker(config, createWorkerContext(config, { now: () => clock })));

    // Night 1: both get their summary, each with a List-Unsubscribe of their own.
    const first = await night(tenant.id, '2026-12-01T02:00:00Z');
    assert.deepEqual(first.flatMap(toOf).sort(), [BORA, ANA].sort());
    const ana = first.find((m) => toOf(m).includes(ANA)) as ParsedMail;
    const bora = first.find((m) => toOf(m).includes(BORA)) as ParsedMail;
    assert.deepEqual(ana.from?.value, [{ name: 'Posta Kontrol', address: 'rapor@hosting.test' }]);
    assert.match(ana.subject ?? '', /^Posta Kontrol 2026-12-01: first audit of 1 domain/);
    assert.match(bora.subject ?? '', /^Posta Kontrol 2026-12-01: 1 alan adının ilk denetimi/, 'her own language');
    assert.equal(rawHeader(ana, 'list-unsubscribe-post'), 'List-Unsubscribe=One-Click');
    const header = rawHeader(ana, 'list-unsubscribe') ?? '';
    const m = /^<(https:\/\/panel\.example(\/u\/[^>]+))>$/.exec(header);
    assert.ok(m, `an HTTPS List-Unsubscribe URL and nothing else: ${header}`);
    const [, url, path] = m as unknown as [string, string, string];
    assert.notEqual(rawHeader(bora, 'list-unsubscribe'), header, 'a link per recipient');
    // The email's "manage" link is the same page.
    assert.ok((typeof ana.html === 'string' ? ana.html : '').includes(`href="${url.replaceAll('&', '&amp;')}"`));
    assert.ok((ana.text ?? '').includes(url));

    // Opening the links (a mail scanner does) changes nothing, and shows a button that POSTs.
    for (const h of [header, rawHeader(bora, 'list-unsubscribe') ?? '']) {
      const page = await svc.app.inject({ url: h.slice('<https://panel.example'.length, -1) });
      assert.equal(page.statusCode, 200);
      assert.match(String(page.headers['content-type']), /^text\/html/);
      assert.match(page.body, /<form method="post" action="">/);
      assert.match(page.body, /name="List-Unsubscribe" value="One-Click"/);
    }
    const [none] = await svc.sql<{ n: number }[]>`select count(*)::int as n from email_opt_outs`;
    assert.equal(none?.n, 0, 'no opt-out from a GET');

    // The one-click POST, as RFC 8058 has mail clients send it: no key, no cookie.
    const post = () =>
      svc.app.inject({
        method: 'POST',
        url: path,
        headers: { 'content-type': 'application/x-www-form-urlencoded' },
        payload: 'List-Unsubscribe=One-Click',
      });
    const res = await post();
    assert.equal(res.statusCode, 200, res.body);
    assert.match(res.body, /ana@customer\.test is unsubscribed/);
    assert.equal((await post()).statusCode, 200, 'again: the same answer');
    const multipart = await svc.app.inject({
      method: 'POST',
      url: path,
      headers: { 'content-type': 'multipart/form-data; boundary=XYZ' },
      payload: '--XYZ\r\nContent-Disposition: form-data; name="List-Unsubscribe"\r\n\r\nOne-Click\r\n--XYZ--\r\n',
    });
    assert.equal(multipart.statusCode, 200, 'the multipart body of RFC 8058 section 8');
    const rows = await svc.sql<
      { address: string }[]
    >`select address from email_opt_outs where tenant_id = ${tenant.id}`;
    assert.deepEqual(
      rows.map((r) => r.address),
      [ANA],
      'that recipient only, once',
    );
    const listed = (await api('GET', '/v1/emails/opt-outs', key)).json().optOuts as { address: string }[];
    assert.deepEqual(
      listed.map((o) => o.address),
      [ANA],
      'the panel sees who unsubscribed',
    );
    // The domain keeps both recipients: the opt-out is the recipient's, not the panel's setting.
    assert.deepEqual((await api('GET', '/v1/domains/good.test', key)).json().recipients, [ANA, BORA]);

    // A forged or mangled token unsubscribes nobody.
    const forged = await svc.app.inject({
      method: 'POST',
      url: path.replace(/\.[\w-]{4}/, '.AAAA'),
      headers: { 'content-type': 'application/x-www-form-urlencoded' },
      payload: 'List-Unsubscribe=One-Click',
    });
    assert.equal(forged.statusCode, 404);

    // Night 2: the other recipient only.
    const second = await night(tenant.id, '2026-12-02T02:00:00Z');
    assert.deepEqual(second.map(toOf), [[BORA]]);
    assert.match(second[0]?.subject ?? '', /^Posta Kontrol 2026-12-02: /);

    // The page undoes it with its own button; the night after mails both again.
    const again = await svc.app.inject({
      method: 'POST',
      url: path,
      headers: { 'content-type': 'application/x-www-form-urlencoded' },
      payload: 'action=resubscribe',
    });
    assert.equal(again.statusCode, 200);
    assert.match(again.body, /receives the summaries and alerts of Posta Kontrol again/);
    const third = await night(tenant.id, '2026-12-03T02:00:00Z');
    assert.deepEqual(third.flatMap(toOf).sort(), [BORA, ANA].sort());
  });
});
