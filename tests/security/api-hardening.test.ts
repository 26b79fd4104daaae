/**
 * Issue 12's API items against the real Postgres, Redis and lab: values that pass a lax validator
 * but not Date or Postgres answer 400; a job is queued only after its row is committed; HTML
 * answers carry the security headers; report-link tokens stay out of the access log; `mailaudit
 * serve` exits non-zero when its port is taken.
 */
import assert from 'node:assert/strict';
import { createServer } from 'node:net';
import { Writable } from 'node:stream';
import { after, before, describe, it } from 'node:test';
import { buildApp, createContext } from '@mailaudit/api';
import { ensureLab, type LabInfo } from '@mailaudit/lab';
import { reportLinkToken } from '@mailaudit/render';
import { pino } from 'pino';
import { runCli } from '../helpers/cli.js';
import { createTestService, DATABASE_URL, eventually, REDIS_URL, type TestService } from '../service/setup.js';

let lab: LabInfo;
let svc: TestService;
let key: string;

before(async () => {
  lab = await ensureLab();
  svc = await createTestService(lab);
  key = await (await svc.tenant()).key();
});
after(() => svc.close());

const get = (url: string, k: string | undefined = key) =>
  svc.app.inject({ url, headers: k ? { authorization: `Bearer ${k}` } : {} });

describe('values ajv-formats takes but Date or Postgres do not: 400, never 500', () => {
  const forged = (v: unknown) => Buffer.from(JSON.stringify(v)).toString('base64url');
  const cases = [
    '/v1/audits?since=2024-06-30T23:59:60Z',
    '/v1/audits?since=0000-01-01T00:00:00Z',
    '/v1/audits?until=2026-01-01T00:00:00-23:59',
    '/v1/audits?since=0001-01-01T00:00:00%2B01:00',
    '/v1/audits?since=2025-02-29T00:00:00Z',
    `/v1/audits?cursor=${forged(['0000-01-01 00:00:00', '0b6f1b1e-3c1a-4a57-9f7e-2f0d1c4b5a69'])}`,
    `/v1/audits?cursor=${forged(['2026-13-45 25:61:61', '0b6f1b1e-3c1a-4a57-9f7e-2f0d1c4b5a69'])}`,
    '/v1/audits/urn:uuid:0b6f1b1e-3c1a-4a57-9f7e-2f0d1c4b5a69',
    '/v1/audits/%7B0b6f1b1e-3c1a-4a57-9f7e-2f0d1c4b5a69%7D',
  ];
  for (const url of cases) {
    it(`GET ${decodeURIComponent(url)} → 400 with the error shape`, async () => {
      const r = await get(url);
      assert.equal(r.statusCode, 400, r.body);
      const body = r.json();
      assert.equal(typeof body.error?.code, 'string');
      assert.equal(typeof body.error?.message, 'string');
    });
  }

  it('still takes a real timestamp with an offset', async () => {
    const r = await get('/v1/audits?since=2026-01-01T00:00:00%2B14:00&until=2026-12-31T23:59:59.999-12:00');
    assert.equal(r.statusCode, 200, r.body);
  });
});

describe('a job never precedes its row', () => {
  it('queues the jobs only once the audits are committed (seen from another connection)', async () => {
    const seen: number[] = [];
    const queue = new Proxy(svc.ctx.queue, {
      get(target, prop, receiver) {
        if (prop !== 'addBulk') return Reflect.get(target, prop, receiver);
        return async (jobs: { data: { auditId: string } }[]) => {
          const ids = jobs.map((j) => j.data.auditId);
          // svc.sql is another connection than the API's transaction.
          const rows = await svc.sql`select id from audits where id in ${svc.sql(ids)}`;
          seen.push(rows.length - ids.length);
          return target.addBulk(jobs as never);
        };
      },
    });
    const ctx = createContext(svc.apiConfig, { sql: svc.sql, queue, redis: svc.ctx.redis, tasks: svc.ctx.tasks });
    const app = await buildApp(ctx);
    try {
      for (const payload of [{ domain: 'good.test' }, { domains: ['good.test', 'nomx.test', 'spf-bad.test'] }]) {
        const r = await app.inject({
          method: 'POST',
          url: '/v1/audits',
          headers: { authorization: `Bearer ${key}`, 'content-type': 'application/json' },
          payload: JSON.stringify(payload),
        });
        assert.equal(r.statusCode, 202, r.body);
      }
      assert.deepEqual(seen, [0, 0], 'every row was committed when its job was queued');
    } finally {
      await app.close();
    }
  });

  it('takes the rows back when the queue refuses the jobs: 503, nothing stored', async () => {
    const queue = new Proxy(svc.ctx.queue, {
      get(target, prop, receiver) {
        if (prop === 'addBulk') return async () => Promise.reject(new Error('Connection is closed.'));
        return Reflect.get(target, prop, receiver);
      },
    });
    const ctx = createContext(svc.apiConfig, { sql: svc.sql, queue, redis: svc.ctx.redis, tasks: svc.ctx.tasks });
    const app = await buildApp(ctx);
    try {
      const count = async () => (await svc.sql<{ n: number }[]>`select count(*)::int as n from audits`)[0]?.n;
      const before = await count();
      const r = await app.inject({
        method: 'POST',
        url: '/v1/audits',
        headers: { authorization: `Bearer ${key}`, 'content-type': 'application/json', 'idempotency-key': 'refused-1' },
        payload: JSON.stringify({ domain: 'good.test' }),
      });
      assert.equal(r.statusCode, 503, r.body);
      assert.equal(r.headers['retry-after'], '5');
      assert.equal(r.json().error.code, 'unavailable');
      assert.equal(await count(), before);
      // The key is free again: the retry is a new request, not a replay of the refusal.
      const [k] = await svc.sql`select key from idempotency_keys where key = 'refused-1'`;
      assert.equal(k, undefined);
    } finally {
      await app.close();
    }
  });

  it('a worker that takes the job at once finds the row (one attempt, no wait for the sweeper)', async () => {
    await svc.startWorker();
    const r = await svc.app.inject({
      method: 'POST',
      url: '/v1/audits',
      headers: { authorization: `Bearer ${key}`, 'content-type': 'application/json' },
      payload: JSON.stringify({ domain: 'nomx.test' }),
    });
    const id = r.json().id as string;
    const row = await eventually('the audit', async () => {
      const [a] = await svc.sql<{ status: string; attempts: number }[]>`
        select status, attempts from audits where id = ${id}`;
      return a?.status === 'done' ? a : undefined;
    });
    assert.equal(row.attempts, 1);
  });
});

describe('HTML answers and the access log', () => {
  it('the report page carries the security headers and its token is not logged', async () => {
    const lines: string[] = [];
    const sink = new Writable({
      write(chunk, _enc, cb) {
        lines.push(String(chunk));
        cb();
      },
    });
    const ctx = createContext(svc.apiConfig, {
      sql: svc.sql,
      redis: svc.ctx.redis,
      queue: svc.ctx.queue,
      tasks: svc.ctx.tasks,
      log: pino({ level: 'info' }, sink),
    });
    const app = await buildApp(ctx);
    try {
      const posted = await app.inject({
        method: 'POST',
        url: '/v1/audits',
        headers: { authorization: `Bearer ${key}`, 'content-type': 'application/json' },
        payload: JSON.stringify({ domain: 'good.test' }),
      });
      const id = posted.json().id as string;
      const reportId = await eventually(
        'the report',
        async () => {
          const [a] = await svc.sql<{ report_id: string | null }[]>`
          select r.id as report_id from reports r where r.audit_id = ${id}`;
          return a?.report_id ?? undefined;
        },
        60_000,
      );
      const token = reportLinkToken('test-report-link-secret', reportId);
      const page = await app.inject({ url: `/r/${reportId}?t=${token}` });
      assert.equal(page.statusCode, 200);
      assert.match(String(page.headers['content-type']), /^text\/html/);
      assert.match(String(page.headers['content-security-policy']), /default-src 'none'/);
      assert.match(String(page.headers['content-security-policy']), /frame-ancestors 'none'/);
      assert.equal(page.headers['x-content-type-options'], 'nosniff');
      assert.equal(page.headers['x-frame-options'], 'DENY');
      assert.equal(page.headers['referrer-policy'], 'no-referrer');
      const docs = await app.inject({ url: '/docs/' });
      assert.equal(docs.statusCode, 200);
      assert.ok(docs.headers['content-security-policy']);
      assert.equal(docs.headers['x-frame-options'], 'DENY');
      const notFound = await app.inject({ url: `/r/${reportId}?t=${'0'.repeat(token.length)}` });
      assert.equal(notFound.statusCode, 404);

      const log = lines.join('');
      assert.ok(log.includes(`/r/${reportId}?t=[redacted]`), 'the page request is in the access log');
      assert.ok(!log.includes(token), 'the token is not');
    } finally {
      await app.close();
    }
  });
});

describe('mailaudit serve', () => {
  it('exits non-zero when its port is taken (EADDRINUSE)', async () => {
    const taken = createServer();
    await new Promise<void>((r) => taken.listen(0, '127.0.0.1', () => r()));
    const port = (taken.address() as { port: number }).port;
    try {
      const run = await runCli(['serve'], {
        DATABASE_URL,
        DATABASE_SCHEMA: svc.schema,
        REDIS_URL,
        REDIS_PREFIX: svc.prefix,
        PORT: String(port),
        HOST: '127.0.0.1',
        LOG_LEVEL: 'silent',
      });
      assert.notEqual(run.code, 0);
      assert.match(run.stderr, /EADDRINUSE/);
    } finally {
      taken.close();
    }
  });
});

describe('quotas and fairness between tenants', () => {
  it('counts failed authentications per client address and refuses it past the limit, before any lookup', async () => {
    const limited = await createTestService(lab, { authFailuresPerMinute: 5 });
    try {
      const good = await (await limited.tenant()).key();
      const as = (ip: string, k: string) =>
        limited.app.inject({ url: '/v1/audits', remoteAddress: ip, headers: { authorization: `Bearer ${k}` } });
      const codes: number[] = [];
      for (let i = 0; i < 5; i++) codes.push((await as('127.0.0.7', `mk_00000000_wrongkey${i}`)).statusCode);
      assert.deepEqual(codes, [401, 401, 401, 401, 401]);
      const refused = await as('127.0.0.7', 'mk_00000000_wrongkey9');
      assert.equal(refused.statusCode, 429);
      assert.equal(refused.json().error.code, 'rate_limited');
      assert.ok(Number(refused.headers['retry-after']) > 0);
      // The address is refused whatever key it brings; another address is not.
      assert.equal((await as('127.0.0.7', good)).statusCode, 429);
      assert.equal((await as('127.0.0.8', good)).statusCode, 200);
      // A missing or malformed header counts as a failure too.
      for (let i = 0; i < 5; i++)
        await limited.app.inject({ url: '/v1/audits', remoteAddress: '127.0.0.9', headers: { authorization: 'x' } });
      assert.equal((await as('127.0.0.9', good)).statusCode, 429);
    } finally {
      await limited.close();
    }
  });

  it('limits requests per tenant, all its keys together, refused requests counted', async () => {
    const limited = await createTestService(lab, { rateLimitPerMinute: 3 });
    try {
      const t = await limited.tenant();
      const [k1, k2] = [await t.key(), await t.key()];
      const other = await (await limited.tenant()).key();
      const get = (k: string, url = '/v1/audits') =>
        limited.app.inject({ url, headers: { authorization: `Bearer ${k}` } });
      assert.equal((await get(k1)).statusCode, 200);
      assert.equal((await get(k2, '/v1/audits?limit=abc')).statusCode, 400);
      assert.equal((await get(k2)).statusCode, 200);
      const refused = await get(k1);
      assert.equal(refused.statusCode, 429);
      assert.ok(refused.headers['retry-after']);
      assert.equal((await get(other)).statusCode, 200, 'another tenant has its own budget');
    } finally {
      await limited.close();
    }
  });

  it('refuses audits past the tenant quota of queued audits, and stores none of them', async () => {
    const limited = await createTestService(lab, { tenantMaxQueuedAudits: 5 });
    try {
      const k = await (await limited.tenant()).key();
      const post = (domains: string[]) =>
        limited.app.inject({
          method: 'POST',
          url: '/v1/audits',
          headers: { authorization: `Bearer ${k}`, 'content-type': 'application/json' },
          payload: JSON.stringify({ domains }),
        });
      assert.equal((await post(['a.test', 'b.test', 'c.test', 'd.test'])).statusCode, 202);
      const refused = await post(['e.test', 'f.test']);
      assert.equal(refused.statusCode, 429, refused.body);
      assert.equal(refused.json().error.code, 'quota_exceeded');
      const [n] = await limited.sql<{ n: number }[]>`select count(*)::int as n from audits`;
      assert.equal(n?.n, 4);
      assert.equal((await post(['e.test'])).statusCode, 202);
    } finally {
      await limited.close();
    }
  });

  it("one tenant's batch does not hold back another tenant's single audit", async () => {
    const fair = await createTestService(lab);
    try {
      const big = await (await fair.tenant('big')).key();
      const small = await (await fair.tenant('small')).key();
      const post = (k: string, body: unknown) =>
        fair.app.inject({
          method: 'POST',
          url: '/v1/audits',
          headers: { authorization: `Bearer ${k}`, 'content-type': 'application/json' },
          payload: JSON.stringify(body),
        });
      const batch = (await post(big, { domains: Array.from({ length: 20 }, () => 'nomx.test') })).json().audits as {
        id: string;
      }[];
      const single = (await post(small, { domain: 'nomx.test' })).json().id as string;
      // Every job has its rank in its tenant as priority: the single audit is a first.
      assert.equal((await fair.ctx.queue.getJob(single))?.opts.priority, 1);
      assert.equal((await fair.ctx.queue.getJob(batch[19]?.id as string))?.opts.priority, 20);
      await fair.startWorker({ concurrency: 1 });
      const ids = [...batch.map((a) => a.id), single];
      await eventually(
        'every audit',
        async () => {
          const [n] = await fair.sql<{ n: number }[]>`
            select count(*)::int as n from audits where id in ${fair.sql(ids)} and status = 'done'`;
          return n?.n === ids.length ? true : undefined;
        },
        180_000,
      );
      const [before] = await fair.sql<{ n: number }[]>`
        select count(*)::int as n from audits
        where id in ${fair.sql(batch.map((a) => a.id))}
          and finished_at < (select finished_at from audits where id = ${single})`;
      // One worker slot: it takes rank 1 of each tenant first (the batch's first was queued first).
      assert.ok((before?.n ?? 99) <= 2, `${before?.n} of the batch's audits went first`);
    } finally {
      await fair.close();
    }
  });
});

describe('recipients are single addresses, stored as they will be mailed', () => {
  const put = (recipients: string[]) =>
    svc.app.inject({
      method: 'PUT',
      url: '/v1/domains/good.test',
      headers: { authorization: `Bearer ${key}`, 'content-type': 'application/json' },
      payload: JSON.stringify({ recipients }),
    });

  for (const bad of [
    'a,b@c.test',
    'ops@example.com\u0085x',
    '"a b"@example.com',
    'Ops <ops@example.com>',
    'ops@example.com, evil@example.net',
    'ops@example.com;evil@example.net',
    'ops@localhost',
    'a..b@example.com',
    'é@example.com',
    'ops@example.com\r\nBcc: x@y.test',
    'group: a@b.test;',
  ]) {
    it(`refuses ${JSON.stringify(bad)} with 400`, async () => {
      const r = await put(['ok@example.com', bad]);
      assert.equal(r.statusCode, 400, r.body);
    });
  }

  it('stores an address exactly as given', async () => {
    const r = await put(['Ops.Team+nightly@Example.COM']);
    assert.equal(r.statusCode < 300, true, r.body);
    const got = await get('/v1/domains/good.test');
    assert.deepEqual(got.json().recipients, ['Ops.Team+nightly@Example.COM']);
  });
});
