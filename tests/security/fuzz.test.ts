/**
 * A property-based fuzzer over every route of the API's own OpenAPI document (fast-check, seeded):
 * path and query parameters, headers and bodies drawn from each operation's schema, mutated, or
 * replaced by hostile values (leap seconds, year 0000, `urn:uuid:` ids, control characters, huge
 * numbers, forged cursors). Property: no answer ≥ 500 and no request that does not finish within
 * HANG_MS. Then the cross-tenant walk: every route, called by one tenant with another tenant's
 * resources, answers 404 or lists none of them.
 *
 * Real Postgres, Redis and the lab behind the API (tests/service/setup.ts); `app.inject`, so no
 * port is opened.
 */
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { ensureLab, type LabInfo } from '@mailaudit/lab';
import fc from 'fast-check';
import { createTestService, eventually, type TestService } from '../service/setup.js';

/** The seed of every run: a failure is reproduced by running the file again. */
const SEED = 12_012;
/** Requests per operation. */
const RUNS_PER_OPERATION = 120;
/** A request that takes longer than this is a hang. */
const HANG_MS = 10_000;

interface Schema {
  type?: string | string[];
  format?: string;
  enum?: unknown[];
  const?: unknown;
  pattern?: string;
  minimum?: number;
  maximum?: number;
  minLength?: number;
  maxLength?: number;
  items?: Schema;
  properties?: Record<string, Schema>;
  required?: string[];
  anyOf?: Schema[];
  oneOf?: Schema[];
  allOf?: Schema[];
  $ref?: string;
}

interface Parameter {
  in: 'path' | 'query' | 'header';
  name: string;
  required?: boolean;
  schema?: Schema;
}

interface Operation {
  method: string;
  path: string;
  parameters: Parameter[];
  body?: Schema;
}

const UUID = '0b6f1b1e-3c1a-4a57-9f7e-2f0d1c4b5a69';
const forged = (v: unknown) => Buffer.from(JSON.stringify(v)).toString('base64url');

/** Values that broke or could break something once: each is tried everywhere a string goes. */
const HOSTILE = [
  '',
  ' ',
  '2024-06-30T23:59:60Z',
  '0000-01-01T00:00:00Z',
  '2026-01-01T00:00:00-23:59',
  '275760-09-13T00:00:00Z',
  `urn:uuid:${UUID}`,
  `{${UUID}}`,
  UUID.toUpperCase(),
  '00000000-0000-0000-0000-000000000000',
  forged(['0000-01-01 00:00:00', UUID]),
  forged(['2026-13-45 25:61:61', UUID]),
  forged([]),
  forged(['good.test']),
  'a,b@c.test',
  'ops@example.com\u0085x',
  '"a b"@example.com',
  'é@é.test',
  'xn--.test',
  '..',
  '../../etc/passwd',
  '%00',
  '\u0000',
  '\uffff',
  '\ud800',
  'good.test.',
  '.good.test',
  `${'a'.repeat(64)}.test`,
  'a'.repeat(5000),
  '-1',
  '0',
  '1e309',
  '9007199254740993',
  'NaN',
  'null',
  'true',
  '[]',
  '{}',
  "' or 1=1 --",
  'http://[::1]/',
  'http://[64:ff9b::7f00:1]/hook',
  'http://2130706433/',
  'https://user:pass@example.com/',
  'javascript:alert(1)',
  'Europe/Nowhere',
];

const hostileString = fc.constantFrom(...HOSTILE);
const anyString = fc.oneof(
  { weight: 3, arbitrary: hostileString },
  { weight: 2, arbitrary: fc.string({ maxLength: 40 }) },
  { weight: 1, arbitrary: fc.string({ unit: 'grapheme', maxLength: 20 }) },
);

let doc: { paths: Record<string, Record<string, unknown>>; components?: { schemas?: Record<string, Schema> } };

function deref(s: Schema | undefined): Schema {
  if (!s) return {};
  if (s.$ref) {
    const name = s.$ref.split('/').at(-1) as string;
    return deref(doc.components?.schemas?.[name]);
  }
  return s;
}

/** A value that fits `schema` as the API reads it (dates, uuids, domains, enums). */
function fitting(schema: Schema): fc.Arbitrary<unknown> {
  const s = deref(schema);
  const alts = s.anyOf ?? s.oneOf;
  if (alts?.length) return fc.oneof(...alts.map((a) => fitting(a)));
  if (s.allOf?.length) return fitting(s.allOf[0] as Schema);
  if (s.const !== undefined) return fc.constant(s.const);
  if (s.enum) return fc.constantFrom(...s.enum);
  const type = Array.isArray(s.type) ? s.type[0] : s.type;
  switch (type) {
    case 'string':
      if (s.format === 'uuid') return fc.oneof(fc.uuid(), fc.constant(UUID));
      if (s.format === 'date-time') return fc.date({ noInvalidDate: true }).map((d) => d.toISOString());
      if (s.format === 'email') return fc.constantFrom('ops@example.com', 'a@b.test');
      if (s.format === 'uri') return fc.constantFrom('https://hooks.example.com/x', 'http://127.0.0.1:9/');
      return fc.oneof(
        fc.constantFrom('good.test', 'nomx.test', 's1', 'Europe/Istanbul', 'x'),
        fc.string({ maxLength: 12 }),
      );
    case 'integer':
      return fc.integer({ min: s.minimum ?? -10, max: s.maximum ?? 100_000 });
    case 'number':
      return fc.double({ noNaN: true, min: s.minimum ?? -1e6, max: s.maximum ?? 1e6 });
    case 'boolean':
      return fc.boolean();
    case 'null':
      return fc.constant(null);
    case 'array':
      return fc.array(fitting(s.items ?? {}), { maxLength: 4 });
    case 'object': {
      const props = s.properties ?? {};
      const required = new Set(s.required ?? []);
      const record: Record<string, fc.Arbitrary<unknown>> = {};
      for (const [k, v] of Object.entries(props)) record[k] = fitting(v);
      return fc.record(record, { requiredKeys: Object.keys(props).filter((k) => required.has(k)) });
    }
    default:
      return fc.jsonValue({ maxDepth: 2 });
  }
}

/** Mostly a fitting value, often a hostile one, sometimes anything at all. */
function fuzzed(schema: Schema): fc.Arbitrary<unknown> {
  const s = deref(schema);
  const type = Array.isArray(s.type) ? s.type[0] : s.type;
  if (type === 'object') {
    const props = s.properties ?? {};
    const record: Record<string, fc.Arbitrary<unknown>> = {};
    for (const [k, v] of Object.entries(props)) record[k] = fuzzed(v);
    return fc.oneof(
      { weight: 6, arbitrary: fc.record(record, { requiredKeys: [] }) },
      { weight: 2, arbitrary: fitting(s) },
      { weight: 1, arbitrary: fc.jsonValue({ maxDepth: 3 }) },
      {
        weight: 1,
        arbitrary: fc
          .tuple(fitting(s), fc.string({ minLength: 1, maxLength: 8 }), fc.jsonValue({ maxDepth: 1 }))
          .map(([o, k, v]) => (o && typeof o === 'object' ? { ...o, [k]: v } : o)),
      },
    );
  }
  if (type === 'array') {
    return fc.oneof(
      fc.array(fuzzed(s.items ?? {}), { maxLength: 5 }),
      fc.array(hostileString, { minLength: 1, maxLength: 3 }),
      fitting(s),
    );
  }
  return fc.oneof(
    { weight: 4, arbitrary: fitting(s) },
    { weight: 4, arbitrary: hostileString },
    { weight: 1, arbitrary: fc.jsonValue({ maxDepth: 1 }) },
  );
}

/** A path or query value: a fitting one, a hostile one or any string. */
function paramValue(p: Parameter): fc.Arbitrary<string | undefined> {
  const fit = fitting(p.schema ?? { type: 'string' }).map((v) => (typeof v === 'string' ? v : JSON.stringify(v)));
  const value = fc.oneof({ weight: 3, arbitrary: fit }, { weight: 3, arbitrary: anyString });
  return p.required ? value : fc.option(value, { nil: undefined, freq: 3 });
}

function operations(): Operation[] {
  const out: Operation[] = [];
  for (const [path, ops] of Object.entries(doc.paths)) {
    for (const [method, raw] of Object.entries(ops)) {
      const op = raw as {
        parameters?: Parameter[];
        requestBody?: { content?: Record<string, { schema?: Schema }> };
      };
      const body = op.requestBody?.content?.['application/json']?.schema;
      out.push({ method: method.toUpperCase(), path, parameters: op.parameters ?? [], ...(body ? { body } : {}) });
    }
  }
  return out;
}

let lab: LabInfo;
let svc: TestService;
let keyA: string;
let keyB: string;

before(async () => {
  lab = await ensureLab();
  svc = await createTestService(lab);
  keyA = await (await svc.tenant('A')).key();
  keyB = await (await svc.tenant('B')).key();
  doc = (await svc.app.inject({ url: '/openapi.json' })).json();
});
after(() => svc.close());

async function send(req: {
  method: string;
  url: string;
  headers: Record<string, string>;
  payload?: string;
}): Promise<{ status: number; body: string; ms: number }> {
  const t0 = Date.now();
  let timer: NodeJS.Timeout | undefined;
  const hang = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new Error(`hang: ${req.method} ${req.url} took over ${HANG_MS} ms`)), HANG_MS);
  });
  try {
    const r = await Promise.race([svc.app.inject({ ...req, method: req.method as 'GET' }), hang]);
    return { status: r.statusCode, body: r.body, ms: Date.now() - t0 };
  } finally {
    clearTimeout(timer);
  }
}

describe('fuzzing every route of the OpenAPI document', () => {
  it('the document has the routes the fuzzer walks', () => {
    const ops = operations();
    assert.ok(ops.length >= 20, `${ops.length} operations`);
    assert.ok(ops.some((o) => o.method === 'POST' && o.path === '/v1/audits' && o.body));
  });

  it(`${RUNS_PER_OPERATION} requests per operation: no answer ≥ 500, no hang`, { timeout: 30 * 60_000 }, async (t) => {
    let total = 0;
    const statuses = new Map<number, number>();
    for (const op of operations()) {
      const params = op.parameters;
      const arb = fc.record({
        values: fc.tuple(...params.map((p) => paramValue(p))),
        body: op.body ? fuzzed(op.body) : fc.constant(undefined),
        rawBody: fc.option(fc.oneof(anyString, fc.constantFrom('{"domain": ', '[', 'null', '"x"')), { freq: 8 }),
        key: fc.constantFrom(keyA, keyA, keyA, keyB, 'mk_00000000_notakeyatall', ''),
        // Sometimes a value goes into the URL as bytes that are not valid percent-encoding.
        raw: fc.option(fc.constantFrom('%ZZ', '%ff%fe', '%00', '%', '%e2%82'), { freq: 6 }),
        contentType: fc.constantFrom(
          'application/json',
          'application/json',
          'text/plain',
          'application/x-www-form-urlencoded',
        ),
      });
      await fc.assert(
        fc.asyncProperty(arb, async ({ values, body, rawBody, key, contentType, raw }) => {
          // A lone surrogate has no UTF-8 form: it goes as U+FFFD, as any client would send it.
          const enc = (v: string) => raw ?? encodeURIComponent(Buffer.from(v, 'utf8').toString('utf8'));
          let path = op.path;
          const query: string[] = [];
          const headers: Record<string, string> = {};
          params.forEach((p, i) => {
            const v = values[i];
            if (v === undefined) return;
            if (p.in === 'path') path = path.replace(`{${p.name}}`, enc(v) || '%20');
            else if (p.in === 'query') query.push(`${encodeURIComponent(p.name)}=${enc(v)}`);
            // A header value must be a valid header: characters HTTP forbids are the client's error.
            else if (p.in === 'header' && /^[\t\x20-\x7e]*$/.test(v)) headers[p.name] = v;
          });
          if (key) headers.authorization = `Bearer ${key}`;
          const withBody = op.method !== 'GET' && op.method !== 'DELETE';
          let payload: string | undefined;
          if (withBody) {
            headers['content-type'] = contentType;
            payload = rawBody ?? JSON.stringify(body ?? {});
          }
          const url = `${path}${query.length ? `?${query.join('&')}` : ''}`;
          const r = await send({ method: op.method, url, headers, ...(payload !== undefined ? { payload } : {}) });
          total++;
          statuses.set(r.status, (statuses.get(r.status) ?? 0) + 1);
          if (r.status >= 500) throw new Error(`${op.method} ${url} ${payload ?? ''} → ${r.status} ${r.body}`);
        }),
        { seed: SEED, numRuns: RUNS_PER_OPERATION, endOnFailure: true },
      );
    }
    t.diagnostic(
      `${total} requests; statuses ${JSON.stringify(Object.fromEntries([...statuses].sort((a, b) => a[0] - b[0])))}`,
    );
    assert.ok(total >= 2000, `${total} requests`);
  });
});

describe('the cross-tenant walk', () => {
  it("every route, called by tenant B with tenant A's resources, answers 404 or lists none of them", async () => {
    const call = (method: string, url: string, key: string, body?: unknown) =>
      svc.app.inject({
        method: method as 'GET',
        url,
        headers: {
          authorization: `Bearer ${key}`,
          ...(body !== undefined ? { 'content-type': 'application/json' } : {}),
        },
        ...(body !== undefined ? { payload: JSON.stringify(body) } : {}),
      });
    // A's resources: a registered domain, an audit and its report, a test address.
    const domain = 'good.test';
    assert.equal((await call('PUT', `/v1/domains/${domain}`, keyA, {})).statusCode < 300, true);
    const auditId = (await call('POST', '/v1/audits', keyA, { domain })).json().id as string;
    await svc.startWorker();
    const reportId = await eventually(
      'the report',
      async () => {
        const a = (await call('GET', `/v1/audits/${auditId}`, keyA)).json();
        return a.status === 'done' ? (a.reportId as string) : undefined;
      },
      60_000,
    );
    const testAddress = await call('POST', `/v1/domains/${domain}/test-address`, keyA, {});
    const aIds = new Set([auditId, reportId]);
    const secrets = [auditId, reportId];
    const testId = testAddress.statusCode < 300 ? (testAddress.json().id as string | undefined) : undefined;
    if (testId) {
      aIds.add(testId);
      secrets.push(testId);
    }

    const walked: string[] = [];
    for (const op of operations()) {
      if (!op.path.startsWith('/v1/')) continue;
      const url = op.path
        .replace('{domain}', domain)
        .replace(
          '{id}',
          op.path.includes('/message-tests/')
            ? (testId ?? UUID)
            : op.path.startsWith('/v1/audits')
              ? auditId
              : reportId,
        );
      const body = op.body ? (fc.sample(fitting(op.body), { seed: SEED, numRuns: 1 })[0] ?? {}) : undefined;
      // Writes that create B's own things (a POST of an audit, B's settings) are not A's resources:
      // they are walked too, and must not show A's.
      const r = await call(op.method, url, keyB, op.method === 'GET' || op.method === 'DELETE' ? undefined : body);
      walked.push(`${op.method} ${op.path} ${r.statusCode}`);
      assert.ok(r.statusCode < 500, `${op.method} ${url} → ${r.statusCode} ${r.body}`);
      for (const s of secrets) assert.ok(!r.body.includes(s), `${op.method} ${url} shows A's ${s}: ${r.body}`);
      if (op.path.includes('{id}')) assert.equal(r.statusCode, 404, `${op.method} ${url} → ${r.statusCode} ${r.body}`);
    }
    // A still has all of it.
    assert.equal((await call('GET', `/v1/audits/${auditId}`, keyA)).statusCode, 200);
    assert.equal((await call('GET', `/v1/domains/${domain}/reports/${reportId}`, keyA)).statusCode, 200);
    assert.equal((await call('GET', `/v1/domains/${domain}`, keyA)).statusCode, 200);
    assert.ok(walked.length >= 20, walked.join('\n'));
  });
});
