/**
 * Two nightly cycles on lab domains with an injected clock, one domain regressing between them
 * (the lab switches its records: SPF +all, listed on the domain blocklist). Shows: the summary
 * email of the second night, received by a real SMTP server and parsed, HTML and text, with the
 * regression first; the immediate blocklist alert; webhooks whose signatures verify; the change
 * stored and served by the API; one run per night with two schedulers; a send retried after the
 * SMTP server was down for its first attempt.
 */
import assert from 'node:assert/strict';
import { createServer, type Server } from 'node:http';
import { after, before, describe, it } from 'node:test';
import { readEnv, toConfig } from '@mailaudit/config';
import { ensureLab, type LabInfo, setVariant } from '@mailaudit/lab';
import { nightlySchedulerId, TASK_QUEUE } from '@mailaudit/queue';
import { createWorkerContext, type RunningWorker, runNightly, startWorker } from '@mailaudit/worker';
import { Queue } from 'bullmq';
import { type ParsedMail, simpleParser } from 'mailparser';
import { SMTPServer } from 'smtp-server';
import { Webhook } from 'standardwebhooks';
import { createTestService, eventually, type TestService } from './setup.js';

let lab: LabInfo;
let svc: TestService;
let smtp: SMTPServer | undefined;
let smtpPort = 0;
let hooks: Server;
let hookPort = 0;
const mails: ParsedMail[] = [];
const received: { headers: Record<string, string | string[] | undefined>; body: string }[] = [];
let clock = new Date('2026-12-01T02:00:00Z');
const workers: RunningWorker[] = [];

function startSmtp(port = 0): Promise<number> {
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
  const server = smtp;
  return new Promise((resolve) =>
    server.listen(port, '127.0.0.1', () => resolve((server.server.address() as { port: number }).port)),
  );
}

function stopSmtp(): Promise<void> {
  return new Promise((resolve) => (smtp ? smtp.close(() => resolve()) : resolve()));
}

before(async () => {
  lab = await ensureLab();
  await setVariant('base');
  smtpPort = await startSmtp();
  hooks = createServer((req, res) => {
    let body = '';
    req.on('data', (d) => {
      body += d;
    });
    req.on('end', () => {
      received.push({ headers: req.headers, body });
      res.writeHead(204).end();
    });
  });
  await new Promise<void>((r) => hooks.listen(0, '127.0.0.1', () => r()));
  hookPort = (hooks.address() as { port: number }).port;
  svc = await createTestService(lab);
});

after(async () => {
  for (const w of workers) await w.close().catch(() => {});
  await svc.close();
  await stopSmtp();
  hooks.close();
  await setVariant('base');
});

async function api(method: string, url: string, key: string, body?: unknown) {
  return svc.app.inject({
    method: method as 'GET',
    url,
    headers: { authorization: `Bearer ${key}`, ...(body ? { 'content-type': 'application/json' } : {}) },
    ...(body ? { payload: JSON.stringify(body) } : {}),
  });
}

function worker(): Promise<RunningWorker> {
  const config = toConfig(
    readEnv({
      ...svc.workerEnv,
      SMTP_URL: `smtp://127.0.0.1:${smtpPort}`,
      MAIL_FROM: 'mailaudit@lab.test',
      PUBLIC_URL: 'https://panel.example',
    }),
  );
  return startWorker(config, createWorkerContext(config, { now: () => clock })).then((w) => {
    workers.push(w);
    return w;
  });
}

async function runDone(runId: string) {
  await eventually(
    `run ${runId}`,
    async () => {
      const [r] = await svc.sql<{ status: string; pending: number }[]>`
        select (select status from nightly_runs where id = ${runId}) as status,
          (select count(*)::int from emails where nightly_run_id = ${runId} and status = 'pending') as pending`;
      return r?.status === 'done' && r.pending === 0 ? true : undefined;
    },
    90_000,
  );
}

describe('nightly audits, summaries and webhooks', () => {
  it('two nights, a regression, its summary, alert, webhooks, one run per night, a retried send', async () => {
    const tenant = await svc.tenant('Example Hosting');
    const key = await tenant.key();
    const settings = await api('PUT', '/v1/settings', key, {
      nightlyHour: 3,
      timezone: 'Europe/Paris',
      nightlyWindowMinutes: 0,
      webhookUrl: `http://127.0.0.1:${hookPort}/hooks/mailaudit`,
    });
    assert.equal(settings.statusCode, 200, settings.body);
    const secret = settings.json().webhookSecret as string;
    assert.match(secret, /^whsec_/);
    for (const d of ['good.test', 'nightly-regress.test', 'dmarc-none.test']) {
      const r = await api('PUT', `/v1/domains/${d}`, key, { nightly: true, recipients: ['ops@example.test'] });
      assert.equal(r.statusCode, 201);
    }
    const [w1] = await Promise.all([worker(), worker()]);

    // Two schedulers, one schedule; the night's run starts once however often it is fired.
    const q = new Queue(TASK_QUEUE, { connection: svc.ctx.redis, prefix: svc.prefix });
    const schedulers = (await q.getJobSchedulers()).filter(
      (s) => s.key === nightlySchedulerId(tenant.id) || s.id === nightlySchedulerId(tenant.id),
    );
    assert.equal(schedulers.length, 1);
    assert.equal(schedulers[0]?.tz, 'Europe/Paris');
    await q.close();

    // Night 1.
    const fired = await Promise.all(
      [0, 1, 2].map(() =>
        runNightly((w1 as RunningWorker).ctx, { tenantId: tenant.id, trigger: 'schedule', at: clock.toISOString() }),
      ),
    );
    const runs1 = fired.filter(Boolean);
    assert.equal(runs1.length, 1, 'one run for the night, whichever scheduler fired');
    assert.equal(runs1[0]?.runKey, '2026-12-01');
    await runDone(runs1[0]?.id as string);
    assert.equal(mails.length, 1);
    assert.match(mails[0]?.subject ?? '', /2026-12-01/);

    // The day: nightly-regress.test opens its SPF and gets listed; the SMTP server goes down.
    await setVariant('regressed');
    await stopSmtp();
    // A domain registered during the day is in that night's run.
    assert.equal(
      (await api('PUT', '/v1/domains/dkim-short.test', key, { recipients: ['ops@example.test'] })).statusCode,
      201,
    );

    clock = new Date('2026-12-02T02:00:00Z');
    const run2 = await runNightly((w1 as RunningWorker).ctx, {
      tenantId: tenant.id,
      trigger: 'schedule',
      at: clock.toISOString(),
    });
    assert.ok(run2);
    assert.equal(run2.runKey, '2026-12-02');
    assert.equal(run2.audits, 0, 'counted below, once created');
    const [{ audits }] = (await svc.sql<
      { audits: number }[]
    >`select audits from nightly_runs where id = ${run2.id}`) as unknown as [{ audits: number }];
    assert.equal(audits, 4, 'the three domains and the one added during the day');
    // The first send of the summary fails while the server is down; bring it back after that attempt.
    await eventually(
      'a failed first send',
      async () => {
        const [e] = await svc.sql<
          { attempts: number }[]
        >`select attempts from emails where nightly_run_id = ${run2.id} and kind = 'summary'`;
        return e && e.attempts >= 1 ? true : undefined;
      },
      90_000,
    );
    smtpPort = await startSmtp(smtpPort);
    await runDone(run2.id);

    const [summaryRow] = await svc.sql<{ status: string; attempts: number; last_error: string | null }[]>`
      select status, attempts, last_error from emails where nightly_run_id = ${run2.id} and kind = 'summary'`;
    assert.equal(summaryRow?.status, 'sent');
    assert.ok((summaryRow?.attempts ?? 0) >= 2, `sent after ${summaryRow?.attempts} attempts`);

    const summary = mails.find((m) => /2026-12-02/.test(m.subject ?? ''));
    assert.ok(summary, `no summary for night 2 among ${mails.map((m) => m.subject).join(' | ')}`);
    assert.match(summary.subject ?? '', /got worse \(nightly-regress\.test\)/);
    const text = summary.text ?? '';
    const html = typeof summary.html === 'string' ? summary.html : '';
    assert.ok(html.length > 0, 'an HTML part');
    assert.ok(text.length > 0, 'a text part');
    // The regression comes first, with what went wrong and a link to its report.
    const firstChange = text.indexOf('== Got worse ==\n\nnightly-regress.test: Grade');
    assert.ok(firstChange > 0, text);
    assert.ok(firstChange < text.indexOf('good.test'), 'the regression before the other domains');
    assert.match(text, /- New: .* \(Critical, nightly-regress\.test\) \[spf\.all\.pass\]/);
    assert.match(text, /- New: .* \(Critical, nightly-regress\.test\) \[blocklist\.domain\.listed\]/);
    // Branded with the tenant's name (no product name is set), never ours.
    assert.ok(!/mailaudit/i.test(`${summary.subject} ${text} ${html}`), 'nothing says mailaudit');
    assert.deepEqual(summary.from?.value, [{ name: 'Example Hosting', address: 'mailaudit@lab.test' }]);
    // The links open the report without a key, and only with the right token.
    const link = /https:\/\/panel\.example(\/r\/([0-9a-f-]+)\?t=([\w-]+))/.exec(text.slice(firstChange));
    assert.ok(link, 'a keyless report link');
    assert.ok(
      html.includes(`<a href="https://panel.example${link[1]}&amp;lang=en"`),
      "the report page in the reader's language",
    );
    const page = await svc.app.inject({ url: link[1] as string });
    assert.equal(page.statusCode, 200);
    assert.match(page.headers['content-type'] as string, /text\/html/);
    assert.match(page.body, /nightly-regress\.test: grade D/);
    assert.match(page.body, /spf\.all\.pass/);
    const forged = await svc.app.inject({ url: `/r/${link[2]}?t=${'A'.repeat((link[3] as string).length)}` });
    assert.equal(forged.statusCode, 404);
    assert.deepEqual(summary.to && !Array.isArray(summary.to) ? summary.to.value.map((v) => v.address) : [], [
      'ops@example.test',
    ]);

    const alert = mails.find((m) => /newly blocklisted/.test(m.subject ?? ''));
    assert.ok(alert, 'an immediate alert for the new listing');
    assert.match(alert.subject ?? '', /nightly-regress\.test.*dbl\.dnsbl\.test/);

    // The change is stored and served.
    const changes = (await api('GET', '/v1/domains/nightly-regress.test/changes', key)).json().changes;
    assert.equal(changes[0].regressed, true);
    assert.equal(changes[0].nightlyRunId, run2.id);

    // Webhooks: every delivery signed; audit.completed for each audit, domain.changed for the regression.
    await eventually('webhooks', async () => {
      const [p] = await svc.sql<
        { n: number }[]
      >`select count(*)::int as n from webhook_deliveries where tenant_id = ${tenant.id} and status = 'pending'`;
      return p?.n === 0 ? true : undefined;
    });
    assert.ok(received.length >= 7, `${received.length} deliveries`);
    // Signed as Standard Webhooks prescribe, checked with the standardwebhooks package's own signing
    // (its verify() also holds the timestamp to the real clock, and this test's clock is injected).
    const wh = new Webhook(secret);
    for (const r of received) {
      const id = String(r.headers['webhook-id']);
      const ts = Number(r.headers['webhook-timestamp']);
      assert.equal(String(r.headers['webhook-signature']), wh.sign(id, new Date(ts * 1000), r.body));
      assert.ok(Math.abs(ts - Math.floor(clock.getTime() / 1000)) < 86_400 * 2, 'timestamped by the injected clock');
    }
    const events = received.map(
      (r) => JSON.parse(r.body) as { event: string; data: { domain: string; regressed?: boolean } },
    );
    assert.equal(events.filter((e) => e.event === 'audit.completed').length, 7);
    const changed = events.filter((e) => e.event === 'domain.changed');
    assert.deepEqual(
      changed.map((e) => [e.data.domain, e.data.regressed]),
      [['nightly-regress.test', true]],
    );
    const log = (await api('GET', '/v1/webhooks/deliveries', key)).json().deliveries;
    assert.ok(log.every((d: { status: string }) => d.status === 'delivered'));
    const runs = (await api('GET', '/v1/nightly/runs', key)).json().runs as { night: string; trigger: string }[];
    assert.deepEqual(
      runs.filter((r) => r.trigger === 'schedule').map((r) => r.night),
      ['2026-12-02', '2026-12-01'],
    );

    // The API starts a cycle too: a run of its own, besides the night's scheduled one.
    const now = await api('POST', '/v1/nightly/run', key);
    assert.equal(now.statusCode, 202);
    const started = await eventually(
      'the API-started run',
      async () => {
        const all = (await api('GET', '/v1/nightly/runs', key)).json().runs as {
          trigger: string;
          status: string;
          audits: number;
        }[];
        return all.find((r) => r.trigger === 'api' && r.status === 'done');
      },
      90_000,
    );
    assert.equal(started.audits, 4);
  });
});
