/**
 * Three nights with the real service (Postgres, Redis, a worker, an SMTP sink, a webhook receiver)
 * against the lab, the worker's resolver behind a switch the test controls: a relay to the lab's
 * resolver that can stop answering (a resolver outage on the provider's side).
 *   night 1: normal;
 *   night 2: the resolver answers nothing: the audits are inconclusive, the night holds its
 *            summaries, no customer email, no domain.changed webhook, one operator alert (log,
 *            metric, email); the resolver comes back within the window: the retried audits go
 *            through and the held summary goes out with the true changes only (one domain really
 *            regressed during the day);
 *   night 3: nothing changed: no change reported, no "newly blocklisted" alert.
 */
import assert from 'node:assert/strict';
import { createSocket, type Socket } from 'node:dgram';
import { createServer as createHttpServer, type Server as HttpServer } from 'node:http';
import { connect, createServer as createTcpServer, type Server as TcpServer } from 'node:net';
import { after, before, describe, it } from 'node:test';
import { readEnv, toConfig } from '@mailaudit/config';
import { ensureLab, type LabInfo, setVariant } from '@mailaudit/lab';
import { createWorkerContext, type RunningWorker, runNightly, startWorker } from '@mailaudit/worker';
import { type ParsedMail, simpleParser } from 'mailparser';
import { SMTPServer } from 'smtp-server';
import { createTestService, eventually, type TestService } from './setup.js';

let lab: LabInfo;
let svc: TestService;
let smtp: SMTPServer;
let smtpPort = 0;
let hooks: HttpServer;
let hookPort = 0;
const mails: ParsedMail[] = [];
const hooksReceived: { event: string; data: { domain?: string } }[] = [];
let clock = new Date('2026-12-01T02:00:00Z');
let worker: RunningWorker | undefined;

/** A resolver the test switches off and on: relays to the lab's resolver, or drops everything. */
class SwitchableResolver {
  alive = true;
  port = 0;
  private udp: Socket | undefined;
  private upstream: Socket = createSocket('udp4');
  private tcp: TcpServer | undefined;
  private readonly clients = new Map<number, { port: number; address: string }>();
  constructor(private readonly target: { host: string; port: number }) {}

  async start(): Promise<void> {
    this.upstream.on('message', (msg) => {
      const client = this.clients.get(msg.readUInt16BE(0));
      if (client && this.alive) this.udp?.send(msg, client.port, client.address);
    });
    await new Promise<void>((r) => this.upstream.bind(0, '127.0.0.1', r));
    // UDP and TCP on one port number (answers too large for UDP are asked again over TCP).
    for (;;) {
      const udp = createSocket('udp4');
      udp.on('message', (msg, rinfo) => {
        if (!this.alive || msg.length < 12) return;
        this.clients.set(msg.readUInt16BE(0), { port: rinfo.port, address: rinfo.address });
        this.upstream.send(msg, this.target.port, this.target.host);
      });
      await new Promise<void>((r) => udp.bind(0, '127.0.0.1', r));
      this.udp = udp;
      this.port = udp.address().port;
      const tcp = createTcpServer((s) => {
        if (!this.alive) return s.destroy();
        const up = connect(this.target.port, this.target.host);
        s.pipe(up).pipe(s);
        s.on('error', () => up.destroy());
        up.on('error', () => s.destroy());
      });
      const ok = await new Promise<boolean>((r) => {
        tcp.once('error', () => r(false));
        tcp.listen(this.port, '127.0.0.1', () => r(true));
      });
      if (ok) {
        this.tcp = tcp;
        return;
      }
      udp.close();
    }
  }

  close(): void {
    this.udp?.close();
    this.upstream.close();
    this.tcp?.close();
  }
}

let resolver: SwitchableResolver;

before(async () => {
  lab = await ensureLab();
  await setVariant('base');
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
  hooks = createHttpServer((req, res) => {
    let body = '';
    req.on('data', (d) => {
      body += d;
    });
    req.on('end', () => {
      hooksReceived.push(JSON.parse(body));
      res.writeHead(204).end();
    });
  });
  await new Promise<void>((r) => hooks.listen(0, '127.0.0.1', () => r()));
  hookPort = (hooks.address() as { port: number }).port;
  const [host, port] = lab.resolver.split(':');
  resolver = new SwitchableResolver({ host: host as string, port: Number(port ?? 53) });
  await resolver.start();
  svc = await createTestService(lab);
});

after(async () => {
  await worker?.close().catch(() => {});
  await svc.close();
  await new Promise<void>((r) => smtp.close(() => r()));
  hooks.close();
  resolver.close();
  await setVariant('base');
});

const to = (m: ParsedMail) => (m.to && !Array.isArray(m.to) ? m.to.value.map((v) => v.address) : []);
const customerMails = (night: string) =>
  mails.filter((m) => to(m).includes('ops@example.test') && (m.subject ?? '').includes(night));

async function runDone(runId: string, ms = 180_000) {
  await eventually(
    `run ${runId}`,
    async () => {
      const [r] = await svc.sql<{ status: string; pending: number }[]>`
        select (select status from nightly_runs where id = ${runId}) as status,
          (select count(*)::int from emails where nightly_run_id = ${runId} and status = 'pending') as pending`;
      return r?.status === 'done' && r.pending === 0 ? true : undefined;
    },
    ms,
  );
}

async function webhooksSettled(tenantId: string) {
  await eventually(
    'webhooks delivered',
    async () => {
      const [p] = await svc.sql<{ n: number }[]>`
        select count(*)::int as n from webhook_deliveries where tenant_id = ${tenantId} and status = 'pending'`;
      return p?.n === 0 ? true : undefined;
    },
    60_000,
  );
}

describe('outage mode: three nights, the resolver failing in the second', () => {
  it('holds night 2, alerts the operators once, sends the true changes when the resolver is back; night 3 reports nothing', async () => {
    const tenant = await svc.tenant('Example Hosting');
    const key = await tenant.key();
    const put = (url: string, body: unknown) =>
      svc.app.inject({
        method: 'PUT',
        url,
        headers: { authorization: `Bearer ${key}`, 'content-type': 'application/json' },
        payload: JSON.stringify(body),
      });
    assert.equal(
      (
        await put('/v1/settings', {
          nightlyWindowMinutes: 0,
          webhookUrl: `http://127.0.0.1:${hookPort}/hooks`,
        })
      ).statusCode,
      200,
    );
    const domains = ['good.test', 'nightly-regress.test', 'dmarc-none.test'];
    for (const d of domains)
      assert.equal(
        (await put(`/v1/domains/${d}`, { nightly: true, recipients: ['ops@example.test'] })).statusCode,
        201,
      );

    const config = toConfig(
      readEnv({
        ...svc.workerEnv,
        MAILAUDIT_RESOLVERS: `127.0.0.1:${resolver.port}`,
        SMTP_URL: `smtp://127.0.0.1:${smtpPort}`,
        MAIL_FROM: 'mailaudit@lab.test',
        PUBLIC_URL: 'https://panel.example',
        OPERATOR_EMAIL: 'noc@ops.test',
        OUTAGE_MIN_AUDITS: '3',
        OUTAGE_SHARE_PERCENT: '25',
        // Seconds, not hours: retries after 1.5 s, 3 s, 6 s, 12 s, 24 s, all within the window.
        NIGHT_RETRY_BACKOFF_MS: '1500',
        NIGHT_RETRY_WINDOW_MS: '60000',
        RESOLVER_CHECK_TTL_MS: '500',
      }),
    );
    worker = await startWorker(config, createWorkerContext(config, { now: () => clock }));
    const ctx = worker.ctx;

    // Night 1: normal; the first summary says what was found.
    const run1 = await runNightly(ctx, { tenantId: tenant.id, trigger: 'schedule', at: clock.toISOString() });
    assert.ok(run1);
    await runDone(run1.id);
    const night1 = customerMails('2026-12-01');
    assert.equal(night1.length, 1);
    assert.match(night1[0]?.subject ?? '', /first audit of 3 domains/);
    await webhooksSettled(tenant.id);
    const hooksAfter1 = hooksReceived.length;

    // The day: nightly-regress.test really regresses (SPF +all, listed on the domain blocklist).
    await setVariant('regressed');

    // Night 2: the resolver answers nothing.
    resolver.alive = false;
    clock = new Date('2026-12-02T02:00:00Z');
    const run2 = await runNightly(ctx, { tenantId: tenant.id, trigger: 'schedule', at: clock.toISOString() });
    assert.ok(run2);
    const operatorAlert = await eventually(
      'the operator alert',
      async () => mails.find((m) => to(m).includes('noc@ops.test')),
      120_000,
    );
    assert.match(operatorAlert.subject ?? '', /resolver outage, night 2026-12-02/);
    assert.match(operatorAlert.text ?? '', new RegExp(`127\\.0\\.0\\.1:${resolver.port}`));
    // The alert comes first, then the hold is recorded.
    const held = await eventually('the night held', async () => {
      const [r] = await svc.sql<{ status: string; retries: number; held: boolean }[]>`
        select status, retries, held_since is not null as held from nightly_runs where id = ${run2.id}`;
      return r?.held ? r : undefined;
    });
    assert.equal(held.status, 'running');
    const inconclusive = await svc.sql<{ domain: string; score: number | null; grade: string | null }[]>`
      select r.domain, r.score, r.grade from reports r join audits a on a.id = r.audit_id
      where a.nightly_run_id = ${run2.id} and r.outcome = 'inconclusive' order by r.domain`;
    assert.deepEqual(
      [...new Set(inconclusive.map((r) => r.domain))],
      [...domains].sort(),
      'every audit of the night recorded as inconclusive',
    );
    assert.ok(inconclusive.every((r) => r.score === null && r.grade === null));
    assert.equal(customerMails('2026-12-02').length, 0, 'no customer email while held');
    assert.match(await ctx.metrics.metrics(), /mailaudit_resolver_outages_total 1/);
    await webhooksSettled(tenant.id);
    assert.deepEqual(
      hooksReceived.slice(hooksAfter1).filter((h) => h.event === 'domain.changed'),
      [],
      'no domain.changed for inconclusive audits',
    );

    // The resolver comes back within the window: the next retry goes through.
    resolver.alive = true;
    await runDone(run2.id);
    const night2 = customerMails('2026-12-02');
    assert.equal(night2.length, 1, 'the held summary, once');
    const text2 = night2[0]?.text ?? '';
    assert.equal(night2[0]?.subject, 'Example Hosting 2026-12-02: 1 domain got worse (nightly-regress.test)');
    assert.match(text2, /== Got worse ==\n\nnightly-regress\.test: /);
    assert.match(text2, /- New: .* \[spf\.all\.pass\]/);
    assert.ok(!/resolved:|could not be checked|Got better|good\.test: /i.test(text2), text2);
    assert.equal(mails.filter((m) => to(m).includes('noc@ops.test')).length, 1, 'one operator alert');
    const listing2 = mails.filter((m) => /newly blocklisted/.test(m.subject ?? ''));
    assert.equal(listing2.length, 1);
    await webhooksSettled(tenant.id);
    assert.deepEqual(
      hooksReceived
        .slice(hooksAfter1)
        .filter((h) => h.event === 'domain.changed')
        .map((h) => h.data.domain),
      ['nightly-regress.test'],
    );
    const hooksAfter2 = hooksReceived.length;

    // Night 3: the resolver works and nothing changed.
    clock = new Date('2026-12-03T02:00:00Z');
    const run3 = await runNightly(ctx, { tenantId: tenant.id, trigger: 'schedule', at: clock.toISOString() });
    assert.ok(run3);
    await runDone(run3.id);
    const night3 = customerMails('2026-12-03');
    assert.equal(night3.length, 1);
    assert.equal(night3[0]?.subject, 'Example Hosting 2026-12-03: no change in 3 domains');
    assert.equal(mails.filter((m) => /newly blocklisted/.test(m.subject ?? '')).length, 1, 'no new listing alert');
    await webhooksSettled(tenant.id);
    assert.deepEqual(
      hooksReceived.slice(hooksAfter2).filter((h) => h.event === 'domain.changed'),
      [],
    );

    // Running night 3 again does not mail again, unless forced.
    const again = await runNightly(ctx, { tenantId: tenant.id, trigger: 'api', at: clock.toISOString() });
    assert.ok(again);
    await runDone(again.id);
    assert.equal(customerMails('2026-12-03').length, 1, 'a night sends once');
    const forced = await runNightly(ctx, {
      tenantId: tenant.id,
      trigger: 'api',
      at: new Date(clock.getTime() + 1000).toISOString(),
      force: true,
    });
    assert.ok(forced);
    await runDone(forced.id);
    assert.equal(customerMails('2026-12-03').length, 2, 'force mails again');
  });
});
