/**
 * A tenant's logo by URL, against the real Postgres, the lab's DNS and servers written here: an
 * HTTPS server on the lab's policy address under a lab host name and its lab certificate, and a
 * plain one on 127.0.0.1. The API fetches the logo once through the engine's guarded client, keeps
 * it, and the pages load it from our own origin; reserved addresses are refused unless private
 * targets are allowed, and so are redirects, bodies over 100 KB and what is not an image.
 */
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { createServer as createHttpServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import { createServer as createHttpsServer } from 'node:https';
import type { AddressInfo } from 'node:net';
import { after, before, describe, it } from 'node:test';
import { certificateFiles, ensureLab, type LabInfo, POLICY_ADDRESS } from '@mailaudit/lab';
import { LOGO_MAX_BYTES, reportLinkToken } from '@mailaudit/render';
import { completeAudit, createAudits, getReportByAudit } from '@mailaudit/store';
import { createTestService, type TestService } from './setup.js';

/** A 1×1 PNG. */
const PNG = Buffer.from(
  'iVBORw0KGgoAAAANSUhEUgAAAAEAAAABCAQAAAC1HAwCAAAAC0lEQVR42mNkYAAAAAYAAjCB0C8AAAAASUVORK5CYII=',
  'base64',
);
const SVG =
  '<?xml version="1.0"?>\n<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 8 8"><rect width="8" height="8"/></svg>';

let lab: LabInfo;
let svc: TestService;
let guarded: TestService;
const servers: Server[] = [];
let plain = '';
let secure = '';
let hits = 0;

function routes(req: IncomingMessage, res: ServerResponse) {
  hits++;
  switch (req.url) {
    case '/logo.png':
      res.writeHead(200, { 'content-type': 'image/png' }).end(PNG);
      return;
    case '/logo.svg':
      res.writeHead(200, { 'content-type': 'image/svg+xml' }).end(SVG);
      return;
    case '/lies.png':
      res.writeHead(200, { 'content-type': 'image/png' }).end('<html><script>alert(1)</script></html>');
      return;
    case '/big.png':
      res.writeHead(200, { 'content-type': 'image/png' }).end(Buffer.concat([PNG, Buffer.alloc(LOGO_MAX_BYTES)]));
      return;
    case '/moved.png':
      res.writeHead(302, { location: '/logo.png' }).end();
      return;
    default:
      res.writeHead(404).end();
  }
}

async function listen(server: Server, host: string): Promise<number> {
  servers.push(server);
  await new Promise<void>((resolve) => server.listen(0, host, resolve));
  return (server.address() as AddressInfo).port;
}

function call(s: TestService, key: string, method: 'GET' | 'PUT', url: string, body?: unknown) {
  return s.app.inject({
    method,
    url,
    headers: { authorization: `Bearer ${key}`, ...(body ? { 'content-type': 'application/json' } : {}) },
    ...(body ? { payload: JSON.stringify(body) } : {}),
  });
}

before(async () => {
  lab = await ensureLab();
  svc = await createTestService(lab);
  guarded = await createTestService(lab, { allowPrivateTargets: false });
  plain = `http://127.0.0.1:${await listen(createHttpServer(routes), '127.0.0.1')}`;
  // A lab host name (the lab's DNS answers POLICY_ADDRESS for it) with its lab certificate.
  const files = certificateFiles('mta-sts');
  const port = await listen(
    createHttpsServer({ cert: readFileSync(files.certFile), key: readFileSync(files.keyFile) }, routes),
    POLICY_ADDRESS,
  );
  secure = `https://mta-sts.good.test:${port}`;
});

after(async () => {
  for (const s of servers) s.close();
  await svc?.close();
  await guarded?.close();
});

describe('the logo by URL', () => {
  it('is fetched over HTTPS once, kept, and served from our own origin to the pages', async () => {
    const t = await svc.tenant('logo');
    const key = await t.key();
    const before = hits;
    const put = await call(svc, key, 'PUT', '/v1/settings/branding', { logoUrl: `${secure}/logo.png` });
    assert.equal(put.statusCode, 200, put.body);
    assert.equal(hits, before + 1, 'fetched once');
    const b = put.json();
    assert.equal(b.logoUrl, `${secure}/logo.png`);
    assert.equal(b.logo, `data:image/png;base64,${PNG.toString('base64')}`);
    assert.ok(Date.now() - Date.parse(b.logoFetchedAt) < 60_000);

    // A report page of the tenant shows it from /brand/<tenant>/logo, never from the tenant's server.
    const reportId = await svc.sql.begin(async (tx) => {
      const [audit] = await createAudits(tx, t.id, [{ domain: 'logo.example', options: {} }]);
      if (!audit) throw new Error('no audit');
      await completeAudit(
        tx,
        { id: audit.id, tenantId: t.id, domain: 'logo.example' },
        {
          schema: 'mailaudit.report/1',
          domain: 'logo.example',
          startedAt: new Date().toISOString(),
          durationMs: 1,
          score: 100,
          grade: 'A+',
          outcome: 'complete',
          scoringVersion: 2,
          categories: [],
          findings: [],
          evidence: {},
        },
      );
      return (await getReportByAudit(tx, t.id, audit.id))?.id as string;
    });
    const page = await svc.app.inject({
      url: `/r/${reportId}?t=${reportLinkToken('test-report-link-secret', reportId)}`,
    });
    assert.equal(page.statusCode, 200, page.body);
    const src = /<img class="logo" src="([^"]+)"/.exec(page.body)?.[1] ?? '';
    assert.match(src, new RegExp(`^/brand/${t.id}/logo\\?v=[0-9a-f]{16}$`));
    assert.ok(!page.body.includes('mta-sts.good.test'), "the page names no server of the tenant's");
    assert.match(String(page.headers['content-security-policy']), /img-src 'self';/);

    const logo = await svc.app.inject({ url: src });
    assert.equal(logo.statusCode, 200);
    assert.equal(logo.headers['content-type'], 'image/png');
    assert.deepEqual(logo.rawPayload, PNG);
    assert.match(String(logo.headers['cache-control']), /immutable/);
    assert.equal(hits, before + 1, 'pages and the logo route never fetch it again');

    // The same URL again fetches it anew; an SVG is kept as SVG and served under a policy that runs nothing.
    const svg = await call(svc, key, 'PUT', '/v1/settings/branding', { logoUrl: `${plain}/logo.svg` });
    assert.equal(svg.statusCode, 200, svg.body);
    const served = await svc.app.inject({ url: `/brand/${t.id}/logo` });
    assert.equal(served.headers['content-type'], 'image/svg+xml');
    assert.equal(served.body, SVG);
    assert.match(String(served.headers['content-security-policy']), /default-src 'none'.*sandbox/);
    assert.equal(served.headers['x-content-type-options'], 'nosniff');

    // An upload replaces the fetched logo (and its URL); removing the URL of a fetched one removes it.
    const up = await call(svc, key, 'PUT', '/v1/settings/branding', {
      logo: `data:image/png;base64,${PNG.toString('base64')}`,
    });
    assert.equal(up.json().logoUrl, null);
    assert.equal(up.json().logoFetchedAt, null);
    await call(svc, key, 'PUT', '/v1/settings/branding', { logoUrl: `${plain}/logo.png` });
    const gone = await call(svc, key, 'PUT', '/v1/settings/branding', { logoUrl: null });
    assert.equal(gone.json().logo, null);
    assert.equal((await svc.app.inject({ url: `/brand/${t.id}/logo` })).statusCode, 404);
    assert.equal((await svc.app.inject({ url: '/brand/not-a-tenant/logo' })).statusCode, 404);
  });

  it('refuses what is not a PNG, JPEG, WebP or SVG by its bytes, over 100 KB, a redirect, an error, and both ways at once', async () => {
    const t = await svc.tenant('bad-logos');
    const key = await t.key();
    for (const [path, why] of [
      ['/lies.png', /not a PNG, JPEG, WebP or SVG image/],
      ['/big.png', /larger than 102400 bytes/],
      ['/moved.png', /answered 302 \(redirects are not followed\)/],
      ['/missing.png', /answered 404/],
    ] as const) {
      const res = await call(svc, key, 'PUT', '/v1/settings/branding', { logoUrl: `${plain}${path}` });
      assert.equal(res.statusCode, 422, `${path}: ${res.body}`);
      assert.equal(res.json().error.code, 'logo_unavailable');
      assert.match(res.json().error.message, why);
    }
    const both = await call(svc, key, 'PUT', '/v1/settings/branding', {
      logo: `data:image/png;base64,${PNG.toString('base64')}`,
      logoUrl: `${plain}/logo.png`,
    });
    assert.equal(both.statusCode, 400, both.body);
    assert.equal(
      (await call(svc, key, 'PUT', '/v1/settings/branding', { logoUrl: 'ftp://x.example/l.png' })).statusCode,
      400,
    );
    const b = (await call(svc, key, 'GET', '/v1/settings/branding')).json();
    assert.equal(b.logo, null, 'nothing refused was kept');
    assert.equal(b.logoUrl, null);
  });

  it('goes through the address guard: loopback and the lab addresses are refused without private targets', async () => {
    const t = await guarded.tenant('guarded');
    const key = await t.key();
    const before = hits;
    for (const url of [`${plain}/logo.png`, `${secure}/logo.png`]) {
      const res = await call(guarded, key, 'PUT', '/v1/settings/branding', { logoUrl: url });
      assert.equal(res.statusCode, 422, `${url}: ${res.body}`);
      assert.match(res.json().error.message, /refusing to fetch from 127\.\d+\.\d+\.\d+ \(loopback/);
    }
    assert.equal(hits, before, 'no connection was made');
  });
});
