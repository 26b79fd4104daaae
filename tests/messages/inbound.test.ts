/**
 * Test messages end to end (issue 15): real messages, DKIM-signed by nodemailer with keys the lab
 * publishes, sent over real SMTP with STARTTLS from chosen loopback addresses (so that SPF can pass
 * or fail) into `mailaudit inbound`; the results stored in Postgres, served by the API, announced
 * by a signed webhook; the selectors found checked by the next audit; and `mailaudit check-message`
 * on the same messages saved as .eml files giving the same results.
 */
import assert from 'node:assert/strict';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { createServer, type Server } from 'node:http';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { readEnv, toInboundConfig } from '@mailaudit/config';
import { type RunningInbound, startInbound } from '@mailaudit/inbound';
import {
  ESP_DOMAIN,
  ESP_KEY,
  ESP_SELECTOR,
  ensureLab,
  INBOUND_ADDRESS,
  INBOUND_DOMAIN,
  INBOUND_HOST,
  type LabInfo,
  SENDER_DOMAIN,
  SENDER_KEY,
  SENDER_SELECTOR,
  SENDERS,
  signingKeyFile,
} from '@mailaudit/lab';
import nodemailer from 'nodemailer';
import { runCli } from '../helpers/cli.js';
import { createTestService, eventually, inboundEnv, type TestService } from '../service/setup.js';

let lab: LabInfo;
let svc: TestService;
let inbound: RunningInbound;
let key: string;
let tenantId: string;
let hooks: Server;
let hookPort = 0;
const hooked: { event: string; data: Record<string, unknown> }[] = [];
const emlDir = mkdtempSync(join(tmpdir(), 'mailaudit-eml-'));
const MAX_BYTES = 64 * 1024;

type Sender = (typeof SENDERS)[keyof typeof SENDERS];

interface Sent {
  raw: Buffer;
  eml: string;
  sender: Sender;
  mailFrom: string;
}

async function api(method: string, url: string, body?: unknown) {
  return svc.app.inject({
    method: method as 'GET',
    url,
    headers: { authorization: `Bearer ${key}`, ...(body !== undefined ? { 'content-type': 'application/json' } : {}) },
    ...(body !== undefined ? { payload: JSON.stringify(body) } : {}),
  });
}

async function testAddress(): Promise<string> {
  const r = await api('POST', `/v1/domains/${SENDER_DOMAIN}/test-address`, {});
  assert.equal(r.statusCode, 201, r.body);
  return r.json().address as string;
}

/** The message as its sender's MTA would hand it over: built, then DKIM-signed by nodemailer. */
async function compose(
  to: string,
  o: { sign?: { domain: string; selector: string; keyName: string }; body?: string; subject?: string },
): Promise<Buffer> {
  const composer = nodemailer.createTransport({ streamTransport: true, buffer: true, newline: 'windows' });
  const info = await composer.sendMail({
    from: `Alice <alice@${SENDER_DOMAIN}>`,
    to,
    subject: o.subject ?? 'Test message',
    text: o.body ?? 'Hello, this is a test message.\n',
    ...(o.sign
      ? {
          dkim: {
            domainName: o.sign.domain,
            keySelector: o.sign.selector,
            privateKey: readFileSync(signingKeyFile(o.sign.keyName), 'utf8'),
          },
        }
      : {}),
  });
  return info.message as Buffer;
}

/** Sends over SMTP from the sender's loopback address, with STARTTLS unless told otherwise. */
async function send(
  raw: Buffer,
  to: string[],
  sender: Sender,
  o: { mailFrom?: string; tls?: 'modern' | 'legacy' | 'none' } = {},
): Promise<Sent & { response: string }> {
  const mailFrom = o.mailFrom ?? `bounce@${SENDER_DOMAIN}`;
  const tls = o.tls ?? 'modern';
  const transport = nodemailer.createTransport({
    host: INBOUND_ADDRESS,
    port: inbound.port,
    secure: false,
    name: sender.helo,
    localAddress: sender.address,
    ignoreTLS: tls === 'none',
    requireTLS: tls !== 'none',
    tls: {
      ca: readFileSync(lab.caFile),
      servername: INBOUND_HOST,
      ...(tls === 'legacy' ? { minVersion: 'TLSv1', maxVersion: 'TLSv1', ciphers: 'DEFAULT:@SECLEVEL=0' } : {}),
    },
    connectionTimeout: 10_000,
  });
  try {
    const info = await transport.sendMail({ envelope: { from: mailFrom, to }, raw });
    const eml = join(emlDir, `${hooked.length}-${Date.now()}.eml`);
    writeFileSync(eml, raw);
    return { raw, eml, sender, mailFrom, response: info.response };
  } finally {
    transport.close();
  }
}

interface Stored {
  id: string;
  spf: string;
  dkim: string;
  dmarc: string;
  arc: string;
  tls: string | null;
  selectorsAdded: string[];
  result: {
    spf: { result: string; domain: string };
    dkim: { domain: string; selector: string; result: string; aligned: boolean; keyBits: number | null }[];
    dmarc: { result: string; policy: string | null };
    arc: { result: string };
    iprev: { result: string };
    envelope: { ip: string; helo: string; mailFrom: string; tls?: { version: string } | null };
    findings: { code: string; severity: string; subject: string }[];
  };
}

/** The message test stored for the last message, through the API. */
async function lastTest(): Promise<Stored> {
  const list = await api('GET', `/v1/domains/${SENDER_DOMAIN}/message-tests?limit=1`);
  assert.equal(list.statusCode, 200, list.body);
  const id = list.json().messageTests[0]?.id as string;
  const one = await api('GET', `/v1/domains/${SENDER_DOMAIN}/message-tests/${id}`);
  assert.equal(one.statusCode, 200, one.body);
  return one.json() as Stored;
}

async function testCount(): Promise<number> {
  const [r] = await svc.sql<{ n: number }[]>`select count(*)::int as n from message_tests`;
  return r?.n ?? 0;
}

const codes = (s: Stored) => s.result.findings.map((f) => f.code).sort();
const checked: { sent: Sent; stored: Stored }[] = [];

before(async () => {
  lab = await ensureLab();
  svc = await createTestService(lab);
  const tenant = await svc.tenant('Example Hosting');
  tenantId = tenant.id;
  key = await tenant.key();
  hooks = createServer((req, res) => {
    let body = '';
    req.on('data', (d) => {
      body += d;
    });
    req.on('end', () => {
      hooked.push(JSON.parse(body));
      res.writeHead(204).end();
    });
  });
  await new Promise<void>((r) => hooks.listen(0, '127.0.0.1', () => r()));
  hookPort = (hooks.address() as { port: number }).port;
  const settings = await api('PUT', '/v1/settings', { webhookUrl: `http://127.0.0.1:${hookPort}/hook` });
  assert.equal(settings.statusCode, 200, settings.body);
  assert.equal((await api('PUT', `/v1/domains/${SENDER_DOMAIN}`, { nightly: false })).statusCode, 201);
  // Through the receiver's own configuration step, as `mailaudit inbound` reads it.
  const config = toInboundConfig(
    readEnv({
      ...inboundEnv(svc, lab),
      INBOUND_MAX_MESSAGE_BYTES: String(MAX_BYTES),
      MAILAUDIT_IP_BLOCKLISTS: lab.ipBlocklists.join(','),
      LOG_LEVEL: process.env.TEST_WORKER_LOG ?? 'silent',
    }),
  );
  inbound = await startInbound(config);
  await svc.startWorker();
});

after(async () => {
  await inbound?.close();
  await svc?.close();
  hooks?.close();
  rmSync(emlDir, { recursive: true, force: true });
});

describe('test messages through mailaudit inbound', () => {
  it('an audit before any message cannot find the s2026 key: dkim.missing', async () => {
    const r = await api('POST', '/v1/audits', { domain: SENDER_DOMAIN });
    assert.equal(r.statusCode, 202, r.body);
    const done = await eventually('the first audit', async () => {
      const a = (await api('GET', `/v1/audits/${r.json().id}`)).json();
      return a.status === 'done' ? a : undefined;
    });
    assert.ok(done.report.findings.some((f: { code: string }) => f.code === 'dkim.missing'));
  });

  it('an aligned, signed message from an authorized address: everything passes, the selector is added', async () => {
    const to = await testAddress();
    assert.match(to, new RegExp(`^t-[a-z2-7]{20}@${INBOUND_DOMAIN.replaceAll('.', '\\.')}$`));
    const raw = await compose(to, { sign: { domain: SENDER_DOMAIN, selector: SENDER_SELECTOR, keyName: SENDER_KEY } });
    const sent = await send(raw, [to], SENDERS.authorized);
    assert.match(sent.response, /^250 /);
    const t = await lastTest();
    assert.equal(t.spf, 'pass');
    assert.equal(t.dkim, 'pass');
    assert.equal(t.dmarc, 'pass');
    assert.equal(t.arc, 'none');
    assert.equal(t.tls, 'TLSv1.3');
    assert.deepEqual(
      t.result.dkim.map((s) => [s.domain, s.selector, s.result, s.aligned, s.keyBits]),
      [[SENDER_DOMAIN, SENDER_SELECTOR, 'pass', true, 2048]],
    );
    assert.equal(t.result.spf.domain, SENDER_DOMAIN);
    assert.equal(t.result.dmarc.policy, 'reject');
    assert.equal(t.result.iprev.result, 'pass');
    assert.deepEqual(t.result.envelope, {
      ip: SENDERS.authorized.address,
      helo: SENDERS.authorized.helo,
      mailFrom: `bounce@${SENDER_DOMAIN}`,
      tls: t.result.envelope.tls,
    });
    assert.deepEqual(codes(t), []);
    assert.deepEqual(t.selectorsAdded, [SENDER_SELECTOR]);
    // No body is stored: not in the result, not anywhere in the row.
    const [row] = await svc.sql<
      { all: string }[]
    >`select row_to_json(m)::text as all from message_tests m where id = ${t.id}`;
    assert.doesNotMatch(row?.all ?? '', /this is a test message/);
    const domain = (await api('GET', `/v1/domains/${SENDER_DOMAIN}`)).json();
    assert.deepEqual(domain.dkimSelectorsFound, [SENDER_SELECTOR]);
    assert.deepEqual(domain.dkimSelectors, [], 'the declared list is left as it was');
    checked.push({ sent, stored: t });
  });

  it('the next audit of the domain checks the key the message was signed with: no dkim.missing', async () => {
    const r = await api('POST', '/v1/audits', { domain: SENDER_DOMAIN });
    const done = await eventually('the audit after the message', async () => {
      const a = (await api('GET', `/v1/audits/${r.json().id}`)).json();
      return a.status === 'done' ? a : undefined;
    });
    const findings = done.report.findings.map((f: { code: string }) => f.code);
    assert.ok(!findings.includes('dkim.missing'), findings.join(', '));
    const keys = done.report.evidence.dkim.keys as { selector: string; bits: number }[];
    assert.deepEqual(
      keys.map((k) => [k.selector, k.bits]),
      [[SENDER_SELECTOR, 2048]],
    );
    // The report links to the domain's message tests.
    const latest = (await api('GET', `/v1/domains/${SENDER_DOMAIN}/latest`)).json();
    assert.equal(latest.messageTests.count, 1);
    assert.equal(latest.messageTests.latest.dmarc, 'pass');
    assert.match(latest.messageTests.href, new RegExp(`/v1/domains/${SENDER_DOMAIN}/message-tests$`));
  });

  it('a body altered after signing: the signature fails on its body hash, DMARC passes on SPF', async () => {
    const to = await testAddress();
    const signed = await compose(to, {
      sign: { domain: SENDER_DOMAIN, selector: SENDER_SELECTOR, keyName: SENDER_KEY },
      body: 'Pay invoice 1001.\n',
    });
    const altered = Buffer.from(signed.toString('latin1').replace('Pay invoice 1001.', 'Pay invoice 6666.'), 'latin1');
    const sent = await send(altered, [to], SENDERS.authorized);
    const t = await lastTest();
    assert.equal(t.spf, 'pass');
    assert.deepEqual(
      t.result.dkim.map((s) => [s.selector, s.result]),
      [[SENDER_SELECTOR, 'neutral']],
    );
    assert.equal(t.dmarc, 'pass');
    assert.deepEqual(codes(t), ['message.dkim.body_hash']);
    assert.deepEqual(t.selectorsAdded, []);
    checked.push({ sent, stored: t });
  });

  it('SPF fail: sent from an address the domain does not list (and that has no PTR)', async () => {
    const to = await testAddress();
    const raw = await compose(to, { sign: { domain: SENDER_DOMAIN, selector: SENDER_SELECTOR, keyName: SENDER_KEY } });
    const sent = await send(raw, [to], SENDERS.unlisted);
    const t = await lastTest();
    assert.equal(t.spf, 'fail');
    assert.equal(t.dkim, 'pass');
    assert.equal(t.dmarc, 'pass', 'the aligned signature carries DMARC');
    assert.deepEqual(codes(t), ['message.iprev.missing', 'message.spf.fail']);
    checked.push({ sent, stored: t });
  });

  it('DMARC fail under p=reject: unlisted address, signed only by the mail service', async () => {
    const to = await testAddress();
    const raw = await compose(to, { sign: { domain: ESP_DOMAIN, selector: ESP_SELECTOR, keyName: ESP_KEY } });
    const sent = await send(raw, [to], SENDERS.unlisted);
    const t = await lastTest();
    assert.equal(t.spf, 'fail');
    assert.deepEqual(
      t.result.dkim.map((s) => [s.domain, s.result, s.aligned]),
      [[ESP_DOMAIN, 'pass', false]],
    );
    assert.equal(t.dmarc, 'fail');
    assert.equal(t.result.dmarc.policy, 'reject');
    assert.deepEqual(codes(t), [
      'message.dkim.unaligned',
      'message.dmarc.fail',
      'message.iprev.missing',
      'message.spf.fail',
    ]);
    assert.equal(t.result.findings.find((f) => f.code === 'message.dmarc.fail')?.severity, 'critical');
    assert.deepEqual(t.selectorsAdded, [], "another domain's selector is not the domain's");
    checked.push({ sent, stored: t });
  });

  it('an unsigned message: message.dkim.missing, DMARC passing on SPF', async () => {
    const to = await testAddress();
    const sent = await send(await compose(to, {}), [to], SENDERS.authorized);
    const t = await lastTest();
    assert.equal(t.dkim, 'none');
    assert.deepEqual(t.result.dkim, []);
    assert.equal(t.dmarc, 'pass');
    assert.deepEqual(codes(t), ['message.dkim.missing']);
    checked.push({ sent, stored: t });
  });

  it('a blocklisted sending address: message.blocklist.listed', async () => {
    const to = await testAddress();
    const raw = await compose(to, { sign: { domain: SENDER_DOMAIN, selector: SENDER_SELECTOR, keyName: SENDER_KEY } });
    const sent = await send(raw, [to], SENDERS.listed);
    const t = await lastTest();
    assert.equal(t.spf, 'pass');
    assert.deepEqual(codes(t), ['message.blocklist.listed']);
    checked.push({ sent, stored: t });
  });

  it('the TLS the sender used: none, and TLS 1.0', async () => {
    const to = await testAddress();
    const raw = await compose(to, { sign: { domain: SENDER_DOMAIN, selector: SENDER_SELECTOR, keyName: SENDER_KEY } });
    await send(raw, [to], SENDERS.authorized, { tls: 'none' });
    const plain = await lastTest();
    assert.equal(plain.tls, null);
    assert.deepEqual(codes(plain), ['message.tls.none']);
    await send(raw, [to], SENDERS.authorized, { tls: 'legacy' });
    const legacy = await lastTest();
    assert.equal(legacy.tls, 'TLSv1');
    assert.deepEqual(codes(legacy), ['message.tls.legacy']);
  });

  it('a relay attempt is refused at RCPT and nothing is stored', async () => {
    const before = await testCount();
    const raw = await compose('victim@good.test', {});
    await assert.rejects(
      send(raw, ['victim@good.test'], SENDERS.authorized),
      (err: { responseCode?: number; response?: string }) => {
        assert.equal(err.responseCode, 550);
        assert.match(err.response ?? '', /Relaying denied/);
        return true;
      },
    );
    assert.equal(await testCount(), before);
  });

  it('an unknown recipient, and an expired test address, are refused at RCPT', async () => {
    const before = await testCount();
    const unknown = `t-${'a'.repeat(20)}@${INBOUND_DOMAIN}`;
    await assert.rejects(
      send(await compose(unknown, {}), [unknown], SENDERS.authorized),
      (err: { responseCode?: number }) => {
        assert.equal(err.responseCode, 550);
        return true;
      },
    );
    const expired = await testAddress();
    await svc.sql`update test_addresses set expires_at = now() - interval '1 minute' where token = ${expired.split('@')[0] as string}`;
    await assert.rejects(
      send(await compose(expired, {}), [expired], SENDERS.authorized),
      (err: { responseCode?: number }) => {
        assert.equal(err.responseCode, 550);
        return true;
      },
    );
    assert.equal(await testCount(), before);
  });

  it('an oversized message is refused and nothing is stored', async () => {
    const before = await testCount();
    const to = await testAddress();
    const raw = await compose(to, { body: `${'x'.repeat(70)}\n`.repeat(Math.ceil((MAX_BYTES * 1.5) / 71)) });
    assert.ok(raw.length > MAX_BYTES);
    await assert.rejects(send(raw, [to], SENDERS.authorized), (err: { responseCode?: number }) => {
      assert.equal(err.responseCode, 552);
      return true;
    });
    assert.equal(await testCount(), before);
  });

  it('each test was announced by a message.received webhook', async () => {
    const deliveries = await eventually('the webhooks', async () => {
      const rows = await svc.sql<{ status: string }[]>`
        select status from webhook_deliveries where tenant_id = ${tenantId} and event = 'message.received'`;
      return rows.length >= checked.length && rows.every((r) => r.status === 'delivered') ? rows : undefined;
    });
    assert.equal(deliveries.length, await testCount());
    const first = hooked.find((h) => h.event === 'message.received' && h.data.messageTestId === checked[0]?.stored.id);
    assert.ok(first, 'the first test was delivered');
    assert.equal(first.data.domain, SENDER_DOMAIN);
    assert.equal(first.data.dmarc, 'pass');
    assert.deepEqual(first.data.dkim, [{ domain: SENDER_DOMAIN, selector: SENDER_SELECTOR, result: 'pass' }]);
    assert.deepEqual(first.data.selectorsAdded, [SENDER_SELECTOR]);
  });

  it('mailaudit check-message on the saved messages gives the results the receiver stored', async () => {
    assert.ok(checked.length >= 6);
    for (const { sent, stored } of checked) {
      const r = await runCli(
        [
          'check-message',
          '--ip',
          sent.sender.address,
          '--helo',
          sent.sender.helo,
          '--mail-from',
          sent.mailFrom,
          '--domain',
          SENDER_DOMAIN,
          '--resolver',
          lab.resolver,
          ...lab.ipBlocklists.flatMap((z) => ['--ip-blocklist', z]),
          '--allow-private-targets',
          '--json',
        ],
        {},
        readFileSync(sent.eml),
      );
      assert.equal(r.code, 0, r.stderr);
      const cli = JSON.parse(r.stdout);
      const view = (x: Stored['result']) => ({
        spf: x.spf.result,
        dkim: x.dkim.map((s) => ({ domain: s.domain, selector: s.selector, result: s.result })),
        dmarc: x.dmarc.result,
        arc: x.arc.result,
        findings: x.findings.map((f) => `${f.severity} ${f.code} ${f.subject}`),
      });
      assert.deepEqual(view(cli), view(stored.result), sent.eml);
    }
  });
});

describe('test addresses through the API', () => {
  it('need a registered domain and a configured inbound domain', async () => {
    const unregistered = await api('POST', '/v1/domains/good.test/test-address', {});
    assert.equal(unregistered.statusCode, 404);
    const bad = await api('POST', `/v1/domains/${SENDER_DOMAIN}/test-address`, { validHours: 1000 });
    assert.equal(bad.statusCode, 400);
    const bare = await svc.app.inject({
      method: 'POST',
      url: `/v1/domains/${SENDER_DOMAIN}/test-address`,
      headers: { authorization: `Bearer ${key}` },
    });
    assert.equal(bare.statusCode, 201, `no body at all: ${bare.body}`);
    const valid = bare.json();
    assert.equal(Date.parse(valid.expiresAt) - Date.parse(valid.createdAt), 24 * 3_600_000);
    const saved = svc.ctx.config.inboundDomain;
    svc.ctx.config.inboundDomain = undefined;
    try {
      const off = await api('POST', `/v1/domains/${SENDER_DOMAIN}/test-address`, {});
      assert.equal(off.statusCode, 501);
      assert.equal(off.json().error.code, 'not_configured');
    } finally {
      svc.ctx.config.inboundDomain = saved;
    }
  });

  it("are another tenant's 404, and the history pages newest first", async () => {
    const other = await (await svc.tenant('Other')).key();
    const foreign = await svc.app.inject({
      url: `/v1/domains/${SENDER_DOMAIN}/message-tests/${checked[0]?.stored.id}`,
      headers: { authorization: `Bearer ${other}` },
    });
    assert.equal(foreign.statusCode, 404);
    const page1 = (await api('GET', `/v1/domains/${SENDER_DOMAIN}/message-tests?limit=2`)).json();
    assert.equal(page1.messageTests.length, 2);
    const page2 = (
      await api('GET', `/v1/domains/${SENDER_DOMAIN}/message-tests?limit=2&cursor=${page1.nextCursor}`)
    ).json();
    assert.ok(page2.messageTests.length > 0);
    const times = [...page1.messageTests, ...page2.messageTests].map((t: { receivedAt: string }) => t.receivedAt);
    assert.deepEqual(times, [...times].sort().reverse());
  });
});
