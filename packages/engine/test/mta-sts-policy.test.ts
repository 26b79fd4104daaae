/**
 * The MTA-STS policy through an injected HttpClient (AuditDeps.http): what the audit asks for,
 * through which DNS and guard, and the findings of each answer, with no connection opened.
 */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import {
  auditDomain,
  type Connector,
  type HttpClient,
  HttpError,
  type HttpReach,
  type HttpRequest,
  type HttpResponse,
  type Report,
} from '../src/index.js';
import { mx, stubDns, txt } from './helpers/stub-dns.js';

/** Refuses every connection: the probes find nothing open, and nothing leaves the machine. */
const refuseAll: Connector = {
  async connect() {
    throw Object.assign(new Error('refused (test)'), { code: 'ECONNREFUSED' });
  },
};

function stubHttp(answer: (req: HttpRequest, reach: HttpReach) => Promise<HttpResponse>) {
  const asked: { req: HttpRequest; reach: HttpReach }[] = [];
  const http: HttpClient = {
    request(req, reach) {
      asked.push({ req, reach });
      return answer(req, reach);
    },
  };
  return { http, asked };
}

const dns = stubDns({
  'example.com': { MX: mx([10, 'mx.example.com']), TXT: txt('v=spf1 mx -all') },
  'mx.example.com': { A: ['203.0.114.25'] },
  '_mta-sts.example.com': { TXT: txt('v=STSv1; id=20261202') },
  'mta-sts.example.com': { A: ['203.0.114.80'] },
});

const options = { timeoutMs: 5000, ipBlocklists: [], domainBlocklists: [], dkimSelectors: ['s1'] };

async function audit(http: HttpClient): Promise<Report> {
  return auditDomain('example.com', options, {
    dns,
    now: () => new Date(),
    connector: refuseAll,
    http,
    probeCache: null,
  });
}

const ok = (body: string): HttpResponse => ({
  status: 200,
  headers: {},
  body: Buffer.from(body),
  address: '203.0.114.80',
});
const codes = (r: Report) => r.findings.map((f) => f.code).filter((c) => c.startsWith('mta_sts.'));

describe('MTA-STS policy through AuditDeps.http', () => {
  it('asks for the well-known URL through the audit DNS and the guard, accepting only 200', async () => {
    const { http, asked } = stubHttp(async () =>
      ok('version: STSv1\nmode: enforce\nmx: mx.example.com\nmax_age: 86400\n'),
    );
    const r = await audit(http);
    assert.equal(asked.length, 1);
    const [{ req, reach }] = asked as [{ req: HttpRequest; reach: HttpReach }];
    assert.equal(req.url, 'https://mta-sts.example.com/.well-known/mta-sts.txt');
    assert.equal(req.method ?? 'GET', 'GET');
    assert.equal(req.accept?.(200), true);
    assert.equal(req.accept?.(301), false);
    assert.ok((req.timeoutMs ?? 0) > 0 && (req.timeoutMs ?? 0) <= 10_000);
    assert.equal(reach.allowPrivateTargets, false);
    // The reach's DNS is the audit's: it answers from the audit's resolver.
    assert.deepEqual((await reach.dns.query('mta-sts.example.com', 'A')).records, ['203.0.114.80']);
    assert.deepEqual(codes(r), []);
    assert.deepEqual(r.evidence.mtaStsPolicy, {
      url: 'https://mta-sts.example.com/.well-known/mta-sts.txt',
      state: 'ok',
      address: '203.0.114.80',
      error: null,
      body: 'version: STSv1\nmode: enforce\nmx: mx.example.com\nmax_age: 86400\n',
    });
  });

  it('reports the MX the policy does not list, a status other than 200, a body too large', async () => {
    const mismatch = stubHttp(async () => ok('version: STSv1\nmode: enforce\nmx: other.example.net\nmax_age: 86400\n'));
    assert.deepEqual(codes(await audit(mismatch.http)), ['mta_sts.mx_mismatch']);

    const notFound = stubHttp(async () => ({ ...ok('nope'), status: 404 }));
    const r404 = await audit(notFound.http);
    assert.deepEqual(codes(r404), ['mta_sts.policy.unreachable']);
    assert.equal(r404.findings.find((f) => f.code === 'mta_sts.policy.unreachable')?.params.status, 404);

    const large = stubHttp(async () => {
      throw new HttpError('too_large', 'the body is larger than allowed', '203.0.114.80');
    });
    assert.deepEqual(codes(await audit(large.http)), ['mta_sts.policy.invalid']);

    const refused = stubHttp(async () => {
      throw new HttpError('connect', 'connect ECONNREFUSED 203.0.114.80:443', '203.0.114.80');
    });
    const rRefused = await audit(refused.http);
    assert.deepEqual(codes(rRefused), ['mta_sts.policy.unreachable']);
    assert.equal((rRefused.evidence.mtaStsPolicy as { address: string }).address, '203.0.114.80');
  });

  it('fetches nothing without probes', async () => {
    const { http, asked } = stubHttp(async () => ok(''));
    await auditDomain('example.com', { ...options, probes: false }, { dns, now: () => new Date(), http });
    assert.equal(asked.length, 0);
  });
});
