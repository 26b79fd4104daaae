/**
 * Webhooks as Standard Webhooks prescribe, against the real Postgres, Redis, worker and lab: every
 * delivery received by an HTTP server on loopback is verified with the `standardwebhooks` package
 * from the npm registry (an implementation independent of ours), before a rotation, during it (two
 * signatures: either secret verifies) and after the old secret's time is up (only the new one).
 * Test deliveries on request, audit.completed webhooks, and the errors of both endpoints.
 */
import assert from 'node:assert/strict';
import { createServer, type IncomingHttpHeaders, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { after, before, describe, it } from 'node:test';
import { ensureLab } from '@mailaudit/lab';
import { Webhook, WebhookVerificationError } from 'standardwebhooks';
import { createTestService, eventually, type TestService } from './setup.js';

let svc: TestService;
let key: string;
let hooks: Server;
let hookUrl: string;
const received: { headers: IncomingHttpHeaders; body: string }[] = [];

function call(method: string, url: string, body?: unknown, k = key) {
  return svc.app.inject({
    method: method as 'GET',
    url,
    headers: {
      authorization: `Bearer ${k}`,
      ...(body !== undefined ? { 'content-type': 'application/json' } : {}),
    },
    ...(body !== undefined ? { payload: JSON.stringify(body) } : {}),
  });
}

/** Standard Webhooks' own verification: the headers as received, the raw body. */
function verifies(secret: string, r: { headers: IncomingHttpHeaders; body: string }): boolean {
  const headers: Record<string, string> = {};
  for (const [k, v] of Object.entries(r.headers)) if (typeof v === 'string') headers[k] = v;
  try {
    new Webhook(secret).verify(r.body, headers);
    return true;
  } catch (err) {
    if (err instanceof WebhookVerificationError) return false;
    throw err;
  }
}

/** Sends a test delivery and waits for the server to receive it. */
async function testDelivery() {
  const res = await call('POST', '/v1/settings/webhook/test');
  assert.equal(res.statusCode, 202, res.body);
  const { deliveryId } = res.json();
  return eventually(`delivery ${deliveryId}`, async () => received.find((r) => r.headers['webhook-id'] === deliveryId));
}

before(async () => {
  const lab = await ensureLab();
  svc = await createTestService(lab);
  key = await (await svc.tenant('hooks')).key();
  hooks = createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => {
      received.push({ headers: req.headers, body: Buffer.concat(chunks).toString('utf8') });
      res.writeHead(204).end();
    });
  });
  await new Promise<void>((r) => hooks.listen(0, '127.0.0.1', r));
  hookUrl = `http://127.0.0.1:${(hooks.address() as AddressInfo).port}/hooks`;
  await svc.startWorker();
});

after(async () => {
  await svc?.close();
  await new Promise((r) => hooks?.close(r));
});

describe('Standard Webhooks', () => {
  let first: string;

  it('refuses a test delivery and a rotation without a webhook URL', async () => {
    const t = await call('POST', '/v1/settings/webhook/test');
    assert.equal(t.statusCode, 409);
    assert.equal(t.json().error.code, 'conflict');
    assert.equal((await call('POST', '/v1/settings/webhook/rotate')).statusCode, 409);
  });

  it('signs every delivery: webhook-id, webhook-timestamp, webhook-signature, verified by the library', async () => {
    const set = await call('PUT', '/v1/settings', { webhookUrl: hookUrl });
    assert.equal(set.statusCode, 200, set.body);
    first = set.json().webhookSecret;
    assert.match(first, /^whsec_[A-Za-z0-9+/]{32}$/);
    assert.equal(Buffer.from(first.slice(6), 'base64').length, 24);

    const r = await testDelivery();
    assert.ok(verifies(first, r), JSON.stringify(r.headers));
    assert.match(String(r.headers['webhook-signature']), /^v1,[A-Za-z0-9+/]{43}=$/);
    const body = JSON.parse(r.body);
    assert.equal(body.event, 'webhook.test');
    assert.equal(body.id, r.headers['webhook-id']);
    // Another secret does not verify it, nor does the body altered.
    assert.equal(verifies('whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw', r), false);
    assert.equal(verifies(first, { ...r, body: r.body.replace('test', 'tesT') }), false);

    // A real audit's webhook too.
    const audit = await call('POST', '/v1/audits', { domain: 'good.test' });
    assert.equal(audit.statusCode, 202);
    const hook = await eventually('audit.completed', async () =>
      received.find((x) => JSON.parse(x.body).data?.auditId === audit.json().id),
    );
    assert.ok(verifies(first, hook));
    assert.equal(JSON.parse(hook.body).event, 'audit.completed');
  });

  it('during a rotation, signs with both secrets: receivers with either verify', async () => {
    const rot = await call('POST', '/v1/settings/webhook/rotate', { previousValidForSeconds: 3600 });
    assert.equal(rot.statusCode, 200, rot.body);
    const second = rot.json().webhookSecret as string;
    assert.notEqual(second, first);
    const until = Date.parse(rot.json().webhookPreviousSecretValidUntil);
    assert.ok(Math.abs(until - (Date.now() + 3_600_000)) < 120_000, rot.json().webhookPreviousSecretValidUntil);
    assert.equal((await call('GET', '/v1/settings')).json().webhookSecret, undefined, 'shown once');

    const r = await testDelivery();
    assert.equal(String(r.headers['webhook-signature']).split(' ').length, 2);
    assert.ok(verifies(second, r), 'the new secret verifies');
    assert.ok(verifies(first, r), 'the old secret still verifies');

    // An immediate rotation: the secret it replaces stops at once, and only the newest verifies.
    const now = await call('POST', '/v1/settings/webhook/rotate', { previousValidForSeconds: 0 });
    assert.equal(now.statusCode, 200);
    const third = now.json().webhookSecret as string;
    assert.equal(now.json().webhookPreviousSecretValidUntil, null);
    const r2 = await testDelivery();
    assert.equal(String(r2.headers['webhook-signature']).split(' ').length, 1);
    assert.ok(verifies(third, r2));
    assert.equal(verifies(second, r2), false);
    assert.equal(verifies(first, r2), false);
  });

  it('after the old secret is past its time, signs with the new one only', async () => {
    const rot = await call('POST', '/v1/settings/webhook/rotate', { previousValidForSeconds: 1 });
    const fourth = rot.json().webhookSecret as string;
    await new Promise((r) => setTimeout(r, 1500));
    const r = await testDelivery();
    assert.equal(String(r.headers['webhook-signature']).split(' ').length, 1);
    assert.ok(verifies(fourth, r));
  });

  it('names a bad rotation field, and needs the admin scope', async () => {
    const bad = await call('POST', '/v1/settings/webhook/rotate', { previousValidForSeconds: 10_000_000 });
    assert.equal(bad.statusCode, 400);
    assert.equal(bad.json().error.field, '/body/previousValidForSeconds');
    const tenant = await svc.sql`select tenant_id from api_keys limit 1`;
    const { createApiKey } = await import('@mailaudit/store');
    const readOnly = await createApiKey(svc.sql, tenant[0]?.tenant_id, ['read', 'audit']);
    assert.equal((await call('POST', '/v1/settings/webhook/test', undefined, readOnly.key)).statusCode, 403);
    assert.equal((await call('POST', '/v1/settings/webhook/rotate', undefined, readOnly.key)).statusCode, 403);
  });

  it('shows every delivery in the log as delivered', async () => {
    await eventually('all delivered', async () => {
      const log = (await call('GET', '/v1/webhooks/deliveries')).json().deliveries as { status: string }[];
      return log.length >= 5 && log.every((d) => d.status === 'delivered') ? log : undefined;
    });
  });
});

/** Every page of a list, following nextCursor, with `limit` rows a page. */
async function pages(url: string, listKey: string, limit: number): Promise<{ id: string }[]> {
  const out: { id: string }[] = [];
  let cursor: string | null = null;
  for (let n = 0; n < 50; n++) {
    const res = await call('GET', `${url}?limit=${limit}${cursor ? `&cursor=${cursor}` : ''}`);
    assert.equal(res.statusCode, 200, res.body);
    const body = res.json();
    assert.ok(body[listKey].length <= limit);
    out.push(...body[listKey]);
    cursor = body.nextCursor;
    if (!cursor) return out;
  }
  throw new Error('more than 50 pages');
}

describe('cursors of the delivery log, emails, nightly runs and changes', () => {
  it('pages the delivery log and the emails to the end, each row once, newest first', async () => {
    const all = (await call('GET', '/v1/webhooks/deliveries?limit=500')).json().deliveries as { id: string }[];
    assert.ok(all.length >= 5);
    assert.deepEqual(
      (await pages('/v1/webhooks/deliveries', 'deliveries', 2)).map((d) => d.id),
      all.map((d) => d.id),
    );

    const [row] = await svc.sql<{ tenantId: string }[]>`select tenant_id as "tenantId" from api_keys limit 1`;
    const tenantId = row?.tenantId as string;
    const { createEmail } = await import('@mailaudit/store');
    for (let i = 0; i < 7; i++)
      await createEmail(svc.sql, {
        tenantId,
        runId: null,
        kind: 'alert',
        recipients: ['ops@example.com'],
        subject: `alert ${i}`,
        textBody: 't',
        htmlBody: 'h',
      });
    const emails = await pages('/v1/emails', 'emails', 3);
    assert.deepEqual(
      emails.map((e) => (e as unknown as { subject: string }).subject),
      [6, 5, 4, 3, 2, 1, 0].map((i) => `alert ${i}`),
    );
  });

  it('answers the last page with nextCursor null, and a forged cursor with a 400', async () => {
    for (const [url, key] of [
      ['/v1/nightly/runs', 'runs'],
      ['/v1/domains/good.test/changes', 'changes'],
    ] as const) {
      const res = await call('GET', url);
      assert.equal(res.statusCode, 200, res.body);
      assert.equal(res.json().nextCursor, null);
      assert.ok(Array.isArray(res.json()[key]));
      const forged = await call('GET', `${url}?cursor=${Buffer.from('["x","y"]').toString('base64url')}`);
      assert.equal(forged.statusCode, 400, `${url}: ${forged.body}`);
    }
  });
});
