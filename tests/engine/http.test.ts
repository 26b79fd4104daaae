/**
 * The engine's guarded HTTP client against servers written in this test, on loopback addresses of
 * the lab's /16 (and ::1), with certificates from a CA made here: what it sends and reads, what it
 * refuses (guard, peer, certificate, size), its timeouts, and that a connection failing at once
 * is a rejected promise, never an unhandled 'error' that ends the process.
 */
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { createServer as createHttpServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import { createServer as createHttpsServer } from 'node:https';
import { type Socket, connect as tcpConnect } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import {
  type Connector,
  GuardError,
  GuardedHttpClient,
  HttpError,
  type HttpErrorCode,
  netConnector,
  TrustStore,
  tcpConnector,
} from '@mailaudit/engine';
import { createCa, issue, LAB_NET } from '@mailaudit/lab';
import { stubDns } from '../../packages/engine/test/helpers/stub-dns.js';

const HOSTS = {
  https: `${LAB_NET}.251.1`,
  plain: `${LAB_NET}.251.2`,
  closed: `${LAB_NET}.251.3`,
} as const;

const servers: Server[] = [];
const ports = { https: 0, plain: 0 };
let trust: TrustStore;
let otherTrust: TrustStore;
/** What the plain server received last. */
let lastRequest: { method?: string; url?: string; headers: IncomingMessage['headers']; body: string } | undefined;

function routes(req: IncomingMessage, res: ServerResponse): void {
  let body = '';
  req.on('data', (c: Buffer) => {
    body += c.toString();
  });
  req.on('end', () => {
    lastRequest = { method: req.method, url: req.url, headers: req.headers, body };
    switch (req.url?.replace(/\?.*/, '')) {
      case '/ok':
        res.end('version: STSv1\n');
        return;
      case '/redirect':
        res.writeHead(301, { location: '/ok' }).end();
        return;
      case '/big':
        res.end(Buffer.alloc(100 * 1024, 'a'));
        return;
      case '/big-chunked':
        res.write(Buffer.alloc(40 * 1024, 'a'));
        setTimeout(() => res.end(Buffer.alloc(40 * 1024, 'a')), 20);
        return;
      case '/silent':
        return; // never answers
      case '/only-on-v6':
        res.writeHead(req.socket.localAddress === '::1' ? 200 : 404).end();
        return;
      case '/post':
        res.writeHead(202).end('accepted');
        return;
      default:
        res.writeHead(404).end('not here');
    }
  });
}

function listen(server: Server, address: string): Promise<number> {
  servers.push(server);
  return new Promise((resolve, reject) => {
    server.once('error', reject);
    server.listen(0, address, () => resolve((server.address() as { port: number }).port));
  });
}

before(async () => {
  const now = new Date();
  const ca = await createCa(now);
  const other = await createCa(now);
  const cert = await issue(ca, ['policy.http.test'], 'good', now);
  // Trust stores of one CA each (no system bundle), as --ca-file gives them.
  const dir = mkdtempSync(join(tmpdir(), 'mailaudit-http-'));
  writeFileSync(join(dir, 'ca.pem'), ca.pem);
  writeFileSync(join(dir, 'other.pem'), other.pem);
  trust = new TrustStore(join(dir, 'ca.pem'), '/nonexistent');
  otherTrust = new TrustStore(join(dir, 'other.pem'), '/nonexistent');
  rmSync(dir, { recursive: true });
  ports.https = await listen(createHttpsServer({ cert: cert.certPem, key: cert.keyPem }, routes), HOSTS.https);
  ports.plain = await listen(createHttpServer(routes), HOSTS.plain);
  servers.push(createHttpServer(routes));
  await new Promise<void>((resolve) => (servers.at(-1) as Server).listen(ports.plain, '::1', () => resolve()));
});

after(() => {
  for (const s of servers) {
    s.closeAllConnections?.();
    s.close();
  }
});

const dns = stubDns({
  'policy.http.test': { A: [HOSTS.https] },
  'plain.http.test': { A: [HOSTS.plain] },
  'two.http.test': { A: [HOSTS.closed, HOSTS.plain] },
  'wrongname.http.test': { A: [HOSTS.https] },
  'nowhere.http.test': { TXT: [{ strings: ['x'], text: 'x' }] },
});
const reach = { dns, allowPrivateTargets: true };

async function rejectsWith(p: Promise<unknown>, code: HttpErrorCode): Promise<HttpError> {
  const err = await p.then(
    () => assert.fail(`resolved; expected HttpError ${code}`),
    (e: unknown) => e,
  );
  assert.ok(err instanceof HttpError, `${(err as Error)?.constructor?.name}: ${(err as Error)?.message}`);
  assert.equal(err.code, code, err.message);
  return err;
}

describe('guarded HTTP client', () => {
  it('GETs over HTTPS from the address it resolved, verifying the certificate for the name', async () => {
    const http = new GuardedHttpClient({ trust });
    const res = await http.request({ url: `https://policy.http.test:${ports.https}/ok` }, reach);
    assert.equal(res.status, 200);
    assert.equal(res.body.toString(), 'version: STSv1\n');
    assert.equal(res.address, HOSTS.https);
  });

  it('refuses a certificate from an unknown CA, or for another name', async () => {
    await rejectsWith(
      new GuardedHttpClient({ trust: otherTrust }).request(
        { url: `https://policy.http.test:${ports.https}/ok` },
        reach,
      ),
      'tls',
    );
    await rejectsWith(
      new GuardedHttpClient({ trust }).request({ url: `https://wrongname.http.test:${ports.https}/ok` }, reach),
      'tls',
    );
  });

  it('POSTs a body with its headers, and takes an IPv6 literal in brackets', async () => {
    const http = new GuardedHttpClient({ trust });
    const res = await http.request(
      {
        url: `http://[::1]:${ports.plain}/post?x=1`,
        method: 'POST',
        headers: { 'content-type': 'application/json', 'x-test': 'yes' },
        body: '{"a":1}',
        maxBodyBytes: 0,
      },
      reach,
    );
    assert.equal(res.status, 202);
    assert.equal(res.address, '::1');
    assert.equal(lastRequest?.method, 'POST');
    assert.equal(lastRequest?.url, '/post?x=1');
    assert.equal(lastRequest?.body, '{"a":1}');
    assert.equal(lastRequest?.headers['x-test'], 'yes');
    assert.equal(lastRequest?.headers['content-length'], '7');
    assert.equal(lastRequest?.headers.host, `[::1]:${ports.plain}`);
  });

  it('does not follow redirects: the 301 is the answer', async () => {
    const res = await new GuardedHttpClient({ trust }).request(
      { url: `http://plain.http.test:${ports.plain}/redirect` },
      reach,
    );
    assert.equal(res.status, 301);
    assert.equal(lastRequest?.url, '/redirect');
  });

  it('caps the body, announced or not', async () => {
    const http = new GuardedHttpClient({ trust });
    for (const path of ['/big', '/big-chunked']) {
      await rejectsWith(
        http.request({ url: `http://plain.http.test:${ports.plain}${path}`, maxBodyBytes: 64 * 1024 }, reach),
        'too_large',
      );
    }
  });

  it('gives up on a server that never answers, by the deadline', async () => {
    const t0 = performance.now();
    await rejectsWith(
      new GuardedHttpClient({ trust }).request(
        { url: `http://plain.http.test:${ports.plain}/silent`, timeoutMs: 500 },
        reach,
      ),
      'timeout',
    );
    assert.ok(performance.now() - t0 < 3000);
  });

  it('tries the next address when one refuses the connection, and says when no address is left', async () => {
    const http = new GuardedHttpClient({ trust });
    const res = await http.request({ url: `http://two.http.test:${ports.plain}/ok` }, reach);
    assert.equal(res.address, HOSTS.plain);
    await rejectsWith(
      http.request({ url: `http://two.http.test:${ports.plain}/ok`, maxAddresses: 1 }, reach),
      'connect',
    );
    await rejectsWith(http.request({ url: `http://nowhere.http.test/ok` }, reach), 'no_address');
    await rejectsWith(http.request({ url: 'ftp://plain.http.test/' }, reach), 'bad_url');
  });

  it('lets a status it does not accept be answered by the next address; the last outcome is the answer', async () => {
    const dns2 = stubDns({ 'both.http.test': { A: [HOSTS.plain], AAAA: ['::1'] } });
    const http = new GuardedHttpClient({ trust });
    const both = { dns: dns2, allowPrivateTargets: true };
    const url = `http://both.http.test:${ports.plain}/only-on-v6`;
    const res = await http.request({ url, accept: (s) => s === 200 }, both);
    assert.equal(res.status, 200);
    assert.equal(res.address, '::1');
    // Without `accept`, any status ends the request at the first address.
    assert.equal((await http.request({ url }, both)).status, 404);
    // And when the next address fails, that failure is the answer.
    const dns3 = stubDns({ 'then.http.test': { A: [HOSTS.plain, HOSTS.closed] } });
    await rejectsWith(
      http.request(
        { url: `http://then.http.test:${ports.plain}/missing`, accept: (s) => s === 200 },
        { dns: dns3, allowPrivateTargets: true },
      ),
      'connect',
    );
  });
});

describe('guarded HTTP client: the guard', () => {
  /** Records what is asked; connects nowhere. */
  function recorder(): Connector & { asked: string[] } {
    const asked: string[] = [];
    return {
      asked,
      async connect(address, port) {
        asked.push(`${address}:${port}`);
        throw Object.assign(new Error('refused (recorder)'), { code: 'ECONNREFUSED' });
      },
    };
  }

  it('never connects to a non-public address without allowPrivateTargets', async () => {
    const connector = recorder();
    const http = new GuardedHttpClient({ trust, connector });
    for (const url of [`https://policy.http.test/ok`, 'https://[::1]/', 'http://10.1.2.3/', 'https://[fe80::1]/']) {
      await assert.rejects(http.request({ url }, { dns, allowPrivateTargets: false }), GuardError, url);
    }
    assert.deepEqual(connector.asked, []);
  });

  it('refuses a connection whose peer is not the address it checked', async () => {
    const misrouting: Connector = {
      connect: () =>
        new Promise<Socket>((resolve, reject) => {
          const s = tcpConnect({ host: HOSTS.plain, port: ports.plain }, () => resolve(s));
          s.on('error', reject);
        }),
    };
    const dns3 = stubDns({ 'elsewhere.http.test': { A: [HOSTS.closed] } });
    await assert.rejects(
      new GuardedHttpClient({ trust, connector: misrouting }).request(
        { url: `http://elsewhere.http.test:${ports.plain}/ok`, maxAddresses: 1 },
        { dns: dns3, allowPrivateTargets: true },
      ),
      GuardError,
    );
  });
});

describe('guarded HTTP client: connections that fail at once', () => {
  let uncaught: unknown[] = [];
  const onUncaught = (err: unknown) => uncaught.push(err);
  before(() => {
    uncaught = [];
    process.on('uncaughtException', onUncaught);
  });
  after(() => process.off('uncaughtException', onUncaught));

  it('a bind that fails inside connect() (an IPv6 source for an IPv4 peer): a rejection, nothing escapes', async () => {
    // The kernel refuses the bind synchronously, the way an unroutable peer or a link-local
    // address without a scope fails connect() at once: no packet leaves the machine.
    const http = new GuardedHttpClient({ trust, connector: tcpConnector({ localAddress: '::1' }) });
    for (const url of [`https://policy.http.test:${ports.https}/ok`, `http://plain.http.test:${ports.plain}/ok`]) {
      await rejectsWith(http.request({ url }, reach), 'connect');
    }
    await new Promise((r) => setTimeout(r, 50));
    assert.deepEqual(uncaught, []);
  });

  it('a connector that throws, or hands over a socket that fails right away: a rejection, nothing escapes', async () => {
    const throwing: Connector = {
      connect() {
        throw Object.assign(new Error('connect ENETUNREACH'), { code: 'ENETUNREACH' });
      },
    };
    const failing: Connector = {
      async connect(address, port, timeoutMs) {
        const s = await netConnector.connect(address, port, timeoutMs);
        s.destroy(Object.assign(new Error('read ECONNRESET'), { code: 'ECONNRESET' }));
        return s;
      },
    };
    for (const connector of [throwing, failing]) {
      const http = new GuardedHttpClient({ trust, connector });
      for (const url of [`https://policy.http.test:${ports.https}/ok`, `http://plain.http.test:${ports.plain}/ok`]) {
        await assert.rejects(http.request({ url, maxAddresses: 1 }, reach), HttpError);
      }
    }
    await new Promise((r) => setTimeout(r, 50));
    assert.deepEqual(uncaught, []);
  });
});
