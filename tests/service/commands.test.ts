/**
 * The service commands of CONTRACT.md section 4, run as a person would: migrate, tenant create,
 * key create (and revoke), nightly run; against the real Postgres and Redis.
 */
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { randomBytes, randomUUID } from 'node:crypto';
import { connect } from 'node:net';
import { after, before, describe, it } from 'node:test';
import {
  certificateFiles,
  ensureLab,
  INBOUND_ADDRESS,
  INBOUND_DOMAIN,
  INBOUND_HOST,
  type LabInfo,
} from '@mailaudit/lab';
import { authenticate, createSql } from '@mailaudit/store';
import { SMTPServer } from 'smtp-server';
import { BIN, ROOT, runCli } from '../helpers/cli.js';
import { DATABASE_URL, REDIS_URL } from './setup.js';

let lab: LabInfo;
const schema = `c_${randomBytes(5).toString('hex')}`;
let env: Record<string, string>;
let smtp: SMTPServer;
const delivered: string[] = [];

before(async () => {
  lab = await ensureLab();
  smtp = new SMTPServer({
    authOptional: true,
    hideSTARTTLS: true,
    disableReverseLookup: true,
    logger: false,
    onData(stream, session, cb) {
      stream.resume();
      stream.on('end', () => {
        delivered.push(...session.envelope.rcptTo.map((r) => r.address));
        cb();
      });
    },
  });
  await new Promise<void>((r) => smtp.listen(0, '127.0.0.1', () => r()));
  env = {
    DATABASE_URL,
    DATABASE_SCHEMA: schema,
    REDIS_URL,
    REDIS_PREFIX: `test:${schema}`,
    MAILAUDIT_RESOLVERS: lab.resolver,
    MAILAUDIT_ALLOW_PRIVATE_TARGETS: '1',
    MAILAUDIT_CA_FILE: lab.caFile,
    SMTP_URL: `smtp://127.0.0.1:${(smtp.server.address() as { port: number }).port}`,
    PUBLIC_URL: 'https://panel.example',
    REPORT_LINK_SECRET: 'commands-test-link-secret',
    LOG_LEVEL: 'silent',
  };
});

after(async () => {
  const sql = createSql(DATABASE_URL, { max: 1 });
  await sql`drop schema if exists ${sql(schema)} cascade`;
  await sql.end();
  await new Promise<void>((r) => smtp.close(() => r()));
});

describe('service commands', () => {
  it('migrate applies the migrations once', async () => {
    const first = await runCli(['migrate'], env);
    assert.equal(first.code, 0, first.stderr);
    assert.match(first.stdout, /applied 00001_initial\napplied 00002_nightly/);
    const again = await runCli(['migrate'], env);
    assert.equal(again.stdout, 'nothing to apply\n');
  });

  it('tenant create and key create print JSON; the key works until revoked', async () => {
    const t = await runCli(['tenant', 'create', 'Example Hosting', '--json'], env);
    assert.equal(t.code, 0, t.stderr);
    const { id } = JSON.parse(t.stdout) as { id: string };
    const k = await runCli(['key', 'create', '--tenant', id, '--scopes', 'read,audit', '--json'], env);
    assert.equal(k.code, 0, k.stderr);
    const key = JSON.parse(k.stdout) as { id: string; key: string };
    assert.match(key.key, /^mk_[0-9a-f]{8}_/);
    const sql = createSql(DATABASE_URL, { schema, max: 1 });
    try {
      assert.deepEqual((await authenticate(sql, key.key))?.scopes, ['read', 'audit']);
      const [stored] = await sql<{ hash: string }[]>`select hash from api_keys where id = ${key.id}`;
      assert.ok(stored && !stored.hash.includes(key.key), 'only a hash is stored');
      assert.equal((await runCli(['key', 'revoke', key.id], env)).code, 0);
      assert.equal(await authenticate(sql, key.key), undefined);
    } finally {
      await sql.end();
    }
    const bad = await runCli(['key', 'create', '--tenant', id, '--scopes', 'read,root', '--json'], env);
    assert.equal(bad.code, 2);
    assert.match(bad.stderr, /--scopes: root/);
    const noDb = await runCli(['migrate'], { ...env, DATABASE_URL: '' });
    assert.equal(noDb.code, 2);
  });

  it("nightly run audits a tenant's domains now, sends the summary, and exits when done", async () => {
    const { id } = JSON.parse((await runCli(['tenant', 'create', 'Nightly', '--json'], env)).stdout) as { id: string };
    const sql = createSql(DATABASE_URL, { schema, max: 1 });
    try {
      for (const d of ['good.test', 'spf-all-pass.test']) {
        await sql`insert into domains (tenant_id, domain, recipients) values (${id}, ${d}, ${['noc@example.test']})`;
      }
    } finally {
      await sql.end();
    }
    const r = await runCli(['nightly', 'run', '--tenant', id, '--timeout', '120'], env);
    assert.equal(r.code, 0, r.stderr);
    assert.match(r.stdout, /nightly run [0-9a-f-]+: 2 audits \(0 failed\), 1 emails sent, 0 failed/);
    assert.deepEqual(delivered, ['noc@example.test']);
  });

  it('serve, worker, start and nightly run refuse SMTP_URL without PUBLIC_URL or REPORT_LINK_SECRET (exit 2, one line)', async () => {
    const { PUBLIC_URL: _u, REPORT_LINK_SECRET: _s, ...bare } = env;
    for (const args of [['serve'], ['worker'], ['start'], ['nightly', 'run', '--tenant', randomUUID()]]) {
      const r = await runCli(args, bare);
      assert.equal(r.code, 2, `${args[0]}: ${r.stderr}`);
      assert.equal(r.stderr.trim().split('\n').length, 1, `${args[0]}: one line: ${r.stderr}`);
      assert.match(
        r.stderr,
        /PUBLIC_URL is required when SMTP_URL is set: the links in emails .*not on http:\/\/127\.0\.0\.1:3000/,
      );
      assert.match(r.stderr, /REPORT_LINK_SECRET is required when SMTP_URL is set .*no one-click unsubscribe/);
      assert.ok(!r.stderr.includes(env.SMTP_URL as string), 'the SMTP URL is not echoed');
      const one = await runCli(args, { ...bare, PUBLIC_URL: 'https://panel.example' });
      assert.equal(one.code, 2);
      assert.ok(
        !one.stderr.includes('PUBLIC_URL') && one.stderr.includes('REPORT_LINK_SECRET is required'),
        one.stderr,
      );
    }
  });

  it("start without PUBLIC_URL links to the API's own address, the port it listens on (PORT=0)", async () => {
    const { SMTP_URL: _smtp, PUBLIC_URL: _u, ...local } = env;
    const child = spawn(BIN, ['start'], { cwd: ROOT, env: { ...process.env, ...local, PORT: '0' } });
    let stderr = '';
    const exited = new Promise<number | null>((resolve) => child.once('exit', (code) => resolve(code)));
    try {
      const url = await new Promise<string>((resolve, reject) => {
        child.stderr.on('data', (d) => {
          stderr += d;
          const m = /API listening on (http:\/\/127\.0\.0\.1:(\d+))/.exec(stderr);
          if (m) resolve(m[1] as string);
        });
        child.once('exit', () => reject(new Error(`exited early: ${stderr}`)));
      });
      assert.doesNotMatch(url, /:0$/);
      const { id } = JSON.parse((await runCli(['tenant', 'create', 'Start', '--json'], local)).stdout) as {
        id: string;
      };
      const { key } = JSON.parse(
        (await runCli(['key', 'create', '--tenant', id, '--scopes', 'read,audit,admin', '--json'], local)).stdout,
      ) as { key: string };
      const headers = { authorization: `Bearer ${key}`, 'content-type': 'application/json' };
      const put = await fetch(`${url}/v1/domains/good.test`, {
        method: 'PUT',
        headers,
        body: JSON.stringify({ nightly: true, recipients: ['noc@example.test'] }),
      });
      assert.equal(put.status, 201, await put.text());
      const audit = await fetch(`${url}/v1/audits`, { method: 'POST', headers, body: '{"domain":"good.test"}' });
      assert.equal(audit.status, 202);
      assert.ok(audit.headers.get('location')?.startsWith(`${url}/v1/audits/`), audit.headers.get('location') ?? '');
      const run = await fetch(`${url}/v1/nightly/run`, {
        method: 'POST',
        headers: { authorization: headers.authorization },
      });
      assert.equal(run.status, 202, await run.text());
      // The worker of the same process wrote the summary (recorded, not sent: no SMTP_URL here).
      const sql = createSql(DATABASE_URL, { schema, max: 1 });
      try {
        let body: string | undefined;
        for (let i = 0; i < 240 && body === undefined; i++) {
          const [row] = await sql<{ text_body: string }[]>`select text_body from emails where tenant_id = ${id}`;
          body = row?.text_body;
          if (body === undefined) await new Promise((r) => setTimeout(r, 250));
        }
        assert.ok(body, 'a summary was recorded');
        const links = [...body.matchAll(/https?:\/\/[^\s)>\]]+/g)].map((m) => m[0]);
        assert.ok(
          links.some((l) => l.startsWith(`${url}/r/`)),
          `a report page link on ${url}: ${links.join(' ')}`,
        );
        assert.deepEqual(
          links.filter((l) => !l.startsWith(`${url}/`)),
          [],
          'every link on the API the process started',
        );
      } finally {
        await sql.end();
      }
    } finally {
      child.kill('SIGTERM');
      assert.equal(await exited, 0, stderr);
    }
  });

  it('inbound runs as a process of its own, greets over SMTP, and stops on SIGTERM', async () => {
    const missing = await runCli(['inbound'], env);
    assert.equal(missing.code, 2);
    assert.match(missing.stderr, /INBOUND_DOMAIN is required/);
    const cert = certificateFiles(INBOUND_HOST);
    const child = spawn(BIN, ['inbound'], {
      cwd: ROOT,
      env: {
        ...process.env,
        ...env,
        INBOUND_DOMAIN,
        INBOUND_HOST: INBOUND_ADDRESS,
        INBOUND_PORT: '0',
        INBOUND_TLS_CERT: cert.certFile,
        INBOUND_TLS_KEY: cert.keyFile,
      },
    });
    let stderr = '';
    const listening = new Promise<number>((resolve, reject) => {
      child.stderr.on('data', (d) => {
        stderr += d;
        const m = /receiving test messages on [\d.]+:(\d+)/.exec(stderr);
        if (m) resolve(Number(m[1]));
      });
      child.on('exit', () => reject(new Error(`exited early: ${stderr}`)));
    });
    const port = await listening;
    const greeting = await new Promise<string>((resolve, reject) => {
      const socket = connect({ host: INBOUND_ADDRESS, port });
      socket.once('data', (d) => {
        socket.end('QUIT\r\n');
        resolve(String(d));
      });
      socket.once('error', reject);
    });
    assert.match(greeting, new RegExp(`^220 ${INBOUND_DOMAIN.replaceAll('.', '\\.')} ESMTP`));
    const exited = new Promise<number | null>((resolve) => child.once('exit', (code) => resolve(code)));
    child.kill('SIGTERM');
    assert.equal(await exited, 0, stderr);
  });
});
