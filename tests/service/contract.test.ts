/**
 * The API against its own OpenAPI document (issue 14): GET /openapi.json from the running service,
 * checked as OpenAPI 3.1 by @seriousme/openapi-schema-validator; then every operation of
 * `paths` called with valid input and with invalid input (no key, an unknown key, a key without
 * the operation's scope, another tenant's resource, bad path parameters, queries and bodies, a body
 * of another type or too large, a path segment too long), and every answer checked against the
 * document with Ajv (JSON Schema 2020-12, the dialect of OpenAPI 3.1) and ajv-formats: its status
 * is one the operation documents, each required header is there, each documented header that is
 * there matches its schema, the body matches the schema of its content type. The webhooks the
 * worker delivers meanwhile are checked against the document's `webhooks` the same way.
 *
 * Real Postgres, Redis, workers, lab and `mailaudit inbound` (tests/service/setup.ts). Besides the
 * service under test, three more apps: one whose tenants may make one request a minute (429 on
 * every keyed operation), one whose Postgres and Redis addresses answer nothing (503), and one
 * without INBOUND_DOMAIN and REPORT_LINK_SECRET (501, 503); and for an inconclusive report (409),
 * a worker whose resolver answers nothing.
 */
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { createServer, type IncomingHttpHeaders, type Server } from 'node:http';
import { type AddressInfo, connect } from 'node:net';
import { after, before, describe, it } from 'node:test';
import { type App, buildApp, createContext } from '@mailaudit/api';
import { readEnv, toConfig, toInboundConfig } from '@mailaudit/config';
import { type RunningInbound, startInbound } from '@mailaudit/inbound';
import {
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
import { overviewLinkToken, reportLinkToken, unsubscribeToken } from '@mailaudit/render';
import type { RunningWorker } from '@mailaudit/worker';
import { Validator } from '@seriousme/openapi-schema-validator';
import { Ajv2020, type ValidateFunction } from 'ajv/dist/2020.js';
import addFormatsModule from 'ajv-formats';
import nodemailer from 'nodemailer';
import { createTestService, eventually, inboundEnv, type TestService } from './setup.js';

const SECRET = 'test-report-link-secret';
const DOC_ID = 'https://mailaudit.test/openapi.json';
/** A body over BODY_LIMIT_BYTES (256 KiB by default). */
const TOO_LARGE = JSON.stringify({ domain: 'x'.repeat(300 * 1024) });
/** Longer than the router takes for one path segment (maxParamLength 2048). */
const TOO_LONG = 'a'.repeat(3000);
const UNKNOWN_UUID = '0b6f1b1e-3c1a-4a57-9f7e-2f0d1c4b5a69';
/** A 1×1 PNG. */
const PNG = 'iVBORw0KGgoAAAANSUhEUgAAAAEAAAABCAYAAAAfFcSJAAAADUlEQVR42mNkYPhfDwAChwGA60e6kgAAAABJRU5ErkJggg==';

type Json = Record<string, unknown>;
interface MediaType {
  schema?: Json;
}
interface Response {
  description: string;
  headers?: Record<string, { required?: boolean; schema?: Json }>;
  content?: Record<string, MediaType>;
}
interface Operation {
  parameters?: { in: string; name: string; required?: boolean; schema?: Json }[];
  requestBody?: { required?: boolean; content: Record<string, MediaType> };
  responses: Record<string, Response>;
  security?: Record<string, string[]>[];
}
interface Doc {
  openapi: string;
  paths: Record<string, Record<string, Operation>>;
  webhooks?: Record<string, Record<string, Operation>>;
  security?: Record<string, string[]>[];
  components: Json;
}

/** A request to an operation: its path parameters, query, body and headers. */
interface Call {
  params?: Record<string, string>;
  query?: string;
  /** JSON, sent as application/json unless `type` says otherwise. */
  body?: unknown;
  /** A body sent as it is, with `type`. */
  raw?: string;
  type?: string;
  /** The key: a key, or none (null). @default the admin key of tenant A */
  key?: string | null;
  headers?: Record<string, string>;
  /** Which app answers. @default the service under test */
  app?: App;
}

interface Answer {
  status: number;
  headers: Record<string, string | string[] | number | undefined>;
  body: string;
  json: () => Json;
}

let lab: LabInfo;
let svc: TestService;
let doc: Doc;
let ajv: Ajv2020;
let limited: TestService;
let limitedKey: string;
let down: App;
let closeDown: () => Promise<void>;
let bare: App;
let worker: RunningWorker;
let inbound: RunningInbound;
let hooks: Server;
let hookUrl: string;
let notAnImageUrl: string;
const received: { headers: IncomingHttpHeaders; body: string }[] = [];

let tenantA: string;
let tenantB: string;
/** Tenant A's keys: every scope, and one scope each. */
let keyA: string;
let readA: string;
let auditA: string;
let keyB: string;

/** Every call made, and what the document made of its answer. */
const calls: { op: string; name: string; status: number; problems: string[]; ms: number }[] = [];
/** Per operation: the statuses it answered to valid input, and to invalid input. */
const okOf = new Map<string, Set<number>>();
const errorOf = new Map<string, Set<number>>();
const t0 = Date.now();

const pointer = (s: string) => s.replaceAll('~', '~0').replaceAll('/', '~1');
const opKey = (method: string, path: string) => `${method.toUpperCase()} ${path}`;

/** The document's operations, as `METHOD /path`. */
function operations(d: Doc): string[] {
  return Object.entries(d.paths).flatMap(([path, ops]) => Object.keys(ops).map((m) => opKey(m, path)));
}

function operation(op: string): { method: string; path: string; spec: Operation } {
  const [method, path] = op.split(' ') as [string, string];
  const spec = doc.paths[path]?.[method.toLowerCase()];
  if (!spec) throw new Error(`${op} is not in the document`);
  return { method, path, spec };
}

/** The scope the operation needs (the role of its security requirement); undefined: no key. */
function scopeOf(spec: Operation): string | undefined {
  const security = spec.security ?? doc.security ?? [];
  if (security.length === 0) return undefined;
  return security[0]?.bearer?.[0] ?? '';
}

const validators = new Map<string, ValidateFunction>();

/** Ajv's validator for the schema at `ptr` in the document (its `#/components/...` refs resolved). */
function validatorAt(ptr: string, schema: Json): ValidateFunction {
  let v = validators.get(ptr);
  if (!v) {
    // The schema itself, with its refs pointed at the components added under DOC_ID.
    const s = JSON.parse(JSON.stringify(schema).replaceAll('"#/components/', `"${DOC_ID}#/components/`)) as Json;
    v = ajv.compile({ ...s, $id: `${DOC_ID}/${validators.size}` });
    validators.set(ptr, v);
  }
  return v;
}

function schemaErrors(v: ValidateFunction, value: unknown): string | undefined {
  if (v(value)) return undefined;
  return (v.errors ?? [])
    .slice(0, 5)
    .map((e) => `${e.instancePath || '/'} ${e.message} ${JSON.stringify(e.params)}`)
    .join('; ');
}

/** A header's value as its schema types it (headers are text on the wire). */
function headerValue(raw: string, schema: Json | undefined): unknown {
  const type = schema?.type;
  if ((type === 'integer' || type === 'number') && /^-?\d+(\.\d+)?$/.test(raw)) return Number(raw);
  if (type === 'boolean' && (raw === 'true' || raw === 'false')) return raw === 'true';
  return raw;
}

/**
 * What is wrong with `answer` as an answer of `op` by the document: an undocumented status, a
 * required header missing, a header or body that does not match its schema, a content type the
 * status does not document. Empty when it conforms.
 */
function problemsOf(op: string, answer: Answer): string[] {
  const { method, path, spec } = operation(op);
  const problems: string[] = [];
  const status = String(answer.status);
  const documented = Object.keys(spec.responses);
  const key = documented.includes(status)
    ? status
    : documented.includes(`${status[0]}XX`)
      ? `${status[0]}XX`
      : documented.includes('default')
        ? 'default'
        : undefined;
  if (!key) return [`status ${status} is not documented (${documented.join(', ')}): ${answer.body.slice(0, 300)}`];
  const r = spec.responses[key] as Response;
  const base = `#/paths/${pointer(path)}/${method.toLowerCase()}/responses/${key}`;
  for (const [name, h] of Object.entries(r.headers ?? {})) {
    const raw = answer.headers[name.toLowerCase()];
    if (raw === undefined) {
      if (h.required) problems.push(`required header ${name} is missing`);
      continue;
    }
    if (!h.schema) continue;
    const value = headerValue(String(raw), h.schema);
    const e = schemaErrors(validatorAt(`${base}/headers/${pointer(name)}`, h.schema), value);
    if (e) problems.push(`header ${name}: ${JSON.stringify(raw)}: ${e}`);
  }
  const content = r.content ?? {};
  const types = Object.keys(content);
  const contentType = String(answer.headers['content-type'] ?? '')
    .split(';')[0]
    ?.trim()
    .toLowerCase();
  if (types.length === 0) {
    if (answer.body.length > 0) problems.push(`a body where none is documented: ${answer.body.slice(0, 100)}`);
    return problems;
  }
  if (!contentType || !types.includes(contentType)) {
    problems.push(`content type ${contentType || '(none)'} is not documented (${types.join(', ')})`);
    return problems;
  }
  const schema = content[contentType]?.schema;
  if (!schema) return problems;
  let body: unknown = answer.body;
  if (contentType === 'application/json' || contentType.endsWith('+json')) {
    try {
      body = JSON.parse(answer.body);
    } catch {
      problems.push(`not JSON: ${answer.body.slice(0, 100)}`);
      return problems;
    }
  } else if (answer.body.length === 0) {
    problems.push('an empty body');
  }
  const e = schemaErrors(validatorAt(`${base}/content/${pointer(contentType)}/schema`, schema), body);
  if (e) problems.push(`body: ${e}: ${answer.body.slice(0, 300)}`);
  return problems;
}

/** The URL of `op` with its path parameters filled in, and the query. */
function urlOf(path: string, c: Call): string {
  const url = path.replace(/\{([^}]+)\}/g, (_m, name: string) => {
    const v = c.params?.[name];
    if (v === undefined) throw new Error(`${path}: no value for {${name}}`);
    return encodeURIComponent(v);
  });
  return c.query ? `${url}?${c.query}` : url;
}

async function send(op: string, c: Call): Promise<Answer> {
  const { method, path } = operation(op);
  const headers: Record<string, string> = { ...c.headers };
  const key = c.key === undefined ? keyA : c.key;
  if (key !== null) headers.authorization = `Bearer ${key}`;
  let payload: string | undefined;
  if (c.raw !== undefined) {
    payload = c.raw;
    headers['content-type'] = c.type ?? 'application/json';
  } else if (c.body !== undefined) {
    payload = JSON.stringify(c.body);
    headers['content-type'] = c.type ?? 'application/json';
  }
  const r = await (c.app ?? svc.app).inject({
    method: method as 'GET',
    url: urlOf(path, c),
    headers,
    ...(payload !== undefined ? { payload } : {}),
  });
  return { status: r.statusCode, headers: r.headers, body: r.body, json: () => r.json() as Json };
}

/**
 * Calls `op` and checks the answer against the document; `expect` is the status the call must get
 * (a 2xx: valid input; else invalid input). Fails at once on an undocumented or non-conforming answer.
 */
async function exercise(op: string, name: string, c: Call, expect: number): Promise<Answer> {
  const started = Date.now();
  const answer = await send(op, c);
  const ms = Date.now() - started;
  const problems = [
    ...problemsOf(op, answer),
    ...errorProblems(answer),
    ...(answer.status < 400 ? requestProblems(op, c) : []),
  ];
  calls.push({ op, name, status: answer.status, problems, ms });
  assert.deepEqual(problems, [], `${op} (${name}) → ${answer.status}: ${problems.join('\n')}`);
  assert.equal(answer.status, expect, `${op} (${name}) → ${answer.status}, expected ${expect}: ${answer.body}`);
  const into = expect < 400 ? okOf : errorOf;
  if (!into.has(op)) into.set(op, new Set());
  into.get(op)?.add(answer.status);
  return answer;
}

/**
 * What is wrong with a request the service accepted, by the document: a parameter or body that
 * does not match its schema, a required one missing. The document must describe every request the
 * service takes, or a client generated from it could not make it.
 */
function requestProblems(op: string, c: Call): string[] {
  const { path, spec } = operation(op);
  const problems: string[] = [];
  const query = new URLSearchParams(c.query ?? '');
  for (const p of spec.parameters ?? []) {
    const value =
      p.in === 'path'
        ? c.params?.[p.name]
        : p.in === 'query'
          ? (query.getAll(p.name).at(0) ?? undefined)
          : p.in === 'header'
            ? c.headers?.[p.name]
            : undefined;
    if (value === undefined) {
      if (p.required) problems.push(`the ${p.in} parameter ${p.name} is required, but the service went without it`);
      continue;
    }
    if (!p.schema) continue;
    const e = schemaErrors(validatorAt(`#/paths/${pointer(path)}/${p.in}/${p.name}`, p.schema), value);
    if (e) problems.push(`the ${p.in} parameter ${p.name}=${value.slice(0, 50)} was taken, though: ${e}`);
  }
  const body = spec.requestBody;
  const sent = c.body !== undefined || c.raw !== undefined;
  if (!sent) {
    if (body?.required) problems.push('the document requires a body, but the service took none');
    return problems;
  }
  if (!body) return problems;
  const type = (c.type ?? 'application/json').split(';')[0]?.trim() ?? '';
  const media = body.content[type];
  if (!media) problems.push(`a body of type ${type} was taken, which the document does not list`);
  else if (media.schema && type === 'application/json') {
    const value = c.raw !== undefined ? JSON.parse(c.raw) : c.body;
    const e = schemaErrors(validatorAt(`#/paths/${pointer(path)}/requestBody/${pointer(type)}`, media.schema), value);
    if (e) problems.push(`the body ${JSON.stringify(value).slice(0, 100)} was taken, though: ${e}`);
  }
  return problems;
}

/** Validator and Postgres wording that must not reach a client (issue 14: no schema internals). */
const INTERNALS =
  /must (match pattern|be equal to constant|NOT have additional|have required property|match a schema)|invalid byte sequence|out of range for type|violates .* constraint/;

/**
 * What the document's 400 promises beyond the schema: a field that fails validation, or a name
 * that is not a domain, is named as a JSON pointer into the request; no error tells the schema's
 * internals.
 */
function errorProblems(answer: Answer): string[] {
  if (answer.status < 400 || !String(answer.headers['content-type']).startsWith('application/json')) return [];
  const error = (JSON.parse(answer.body) as Json).error as Json | undefined;
  if (!error) return [];
  const problems: string[] = [];
  if (INTERNALS.test(String(error.message)))
    problems.push(`the message tells the schema's internals: ${error.message}`);
  // A value of the wrong form is told which form, in words.
  if (/is not in the expected form$/.test(String(error.message)))
    problems.push(`the message does not say what form is expected: ${error.message}`);
  if (
    answer.status === 400 &&
    error.code !== 'bad_request' &&
    !/^\/(body|query|path|headers)(\/|$)/.test(String(error.field))
  )
    problems.push(`a ${error.code} error without the field as a JSON pointer: ${answer.body}`);
  return problems;
}

/** A call's error code, for the cases where the status alone does not say which refusal it was. */
function errorCode(a: Answer): string {
  return String((a.json().error as Json | undefined)?.code);
}

/**
 * The invalid inputs every operation takes by what its document says: no key and an unknown key
 * (401), a key without its scope (403), a path segment too long (414), a body of another type
 * (415) or too large (413). `valid` is a call that succeeds.
 */
async function commonRefusals(op: string, valid: Call): Promise<void> {
  const { spec } = operation(op);
  const statuses = new Set(Object.keys(spec.responses));
  const scope = scopeOf(spec);
  if (statuses.has('401')) {
    assert.ok(scope !== undefined, `${op} documents 401 but needs no key`);
    const a = await exercise(op, 'no key', { ...valid, key: null }, 401);
    assert.equal(a.headers['www-authenticate'], 'Bearer');
    await exercise(op, 'an unknown key', { ...valid, key: 'mk_00000000_notakeyatall' }, 401);
  }
  if (statuses.has('403')) {
    assert.ok(scope, `${op} documents 403 but names no scope`);
    await exercise(op, `a key without the ${scope} scope`, { ...valid, key: scope === 'read' ? auditA : readA }, 403);
  }
  if (statuses.has('414')) {
    const name = Object.keys(valid.params ?? {})[0];
    assert.ok(name, `${op} documents 414 but has no path parameter`);
    const a = await exercise(
      op,
      `{${name}} too long`,
      { ...valid, params: { ...valid.params, [name]: TOO_LONG } },
      414,
    );
    assert.equal(errorCode(a), 'uri_too_long');
  }
  if (statuses.has('415')) {
    const a = await exercise(
      op,
      'a text/plain body',
      { ...valid, body: undefined, raw: 'domain=x', type: 'text/plain' },
      415,
    );
    assert.equal(errorCode(a), 'unsupported_media_type');
  }
  if (statuses.has('413')) {
    // An operation without a body schema refuses a JSON body over the limit too.
    const form = spec.requestBody && !spec.requestBody.content['application/json'];
    const type = form ? 'application/x-www-form-urlencoded' : 'application/json';
    const a = await exercise(op, 'a body over the limit', { ...valid, body: undefined, raw: TOO_LARGE, type }, 413);
    assert.equal(errorCode(a), 'payload_too_large');
  }
  if (statuses.has('429')) {
    const a = await exercise(op, 'over the rate limit', { ...valid, app: limited.app, key: limitedKey }, 429);
    assert.equal(errorCode(a), 'rate_limited');
  }
  if (statuses.has('503')) {
    // Not awaited here: postgres.js waits between attempts to connect (up to 20 s once it has
    // failed a few times), and every request waiting meanwhile fails at the next attempt.
    unavailable.push(
      exercise(op, 'Postgres and Redis unreachable', { ...valid, app: down }, 503).then((a) =>
        assert.equal(errorCode(a), 'unavailable'),
      ),
    );
  }
}

/** The calls to the app without stores, answered together at the end. */
const unavailable: Promise<void>[] = [];

/** Waits for an audit to end and returns it. */
async function audited(id: string): Promise<Json> {
  return eventually(
    `audit ${id}`,
    async () => {
      const a = (await send('GET /v1/audits/{id}', { params: { id } })).json();
      return a.status === 'done' || a.status === 'failed' ? a : undefined;
    },
    60_000,
  );
}

/** A DKIM-signed message from sender.test's authorized host, over SMTP with STARTTLS into mailaudit inbound. */
async function sendTestMessage(to: string): Promise<void> {
  const composer = nodemailer.createTransport({ streamTransport: true, buffer: true, newline: 'windows' });
  const info = await composer.sendMail({
    from: `Alice <alice@${SENDER_DOMAIN}>`,
    to,
    subject: 'Contract test',
    text: 'Hello.\n',
    dkim: {
      domainName: SENDER_DOMAIN,
      keySelector: SENDER_SELECTOR,
      privateKey: readFileSync(signingKeyFile(SENDER_KEY), 'utf8'),
    },
  });
  const transport = nodemailer.createTransport({
    host: INBOUND_ADDRESS,
    port: inbound.port,
    secure: false,
    name: SENDERS.authorized.helo,
    localAddress: SENDERS.authorized.address,
    requireTLS: true,
    tls: { ca: readFileSync(lab.caFile), servername: INBOUND_HOST },
    connectionTimeout: 10_000,
  });
  try {
    await transport.sendMail({ envelope: { from: `bounce@${SENDER_DOMAIN}`, to: [to] }, raw: info.message as Buffer });
  } finally {
    transport.close();
  }
}

before(async () => {
  lab = await ensureLab();
  svc = await createTestService(lab);
  const a = await svc.tenant('A');
  tenantA = a.id;
  keyA = await a.key();
  readA = await a.key(['read']);
  auditA = await a.key(['audit']);
  const b = await svc.tenant('B');
  tenantB = b.id;
  keyB = await b.key();

  // The webhook receiver, and a server whose "logo" is not an image.
  hooks = createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => {
      if (req.url === '/not-an-image') {
        res.writeHead(200, { 'content-type': 'image/png' }).end('this is text');
        return;
      }
      received.push({ headers: req.headers, body: Buffer.concat(chunks).toString('utf8') });
      res.writeHead(204).end();
    });
  });
  await new Promise<void>((r) => hooks.listen(0, '127.0.0.1', r));
  const port = (hooks.address() as AddressInfo).port;
  hookUrl = `http://127.0.0.1:${port}/hooks`;
  notAnImageUrl = `http://127.0.0.1:${port}/not-an-image`;

  // One request a minute per tenant: the second is refused with 429.
  limited = await createTestService(lab, { rateLimitPerMinute: 1 });
  limitedKey = await (await limited.tenant('L')).key();
  const first = await limited.app.inject({ url: '/v1/settings', headers: { authorization: `Bearer ${limitedKey}` } });
  assert.equal(first.statusCode, 200, first.body);

  // Postgres and Redis at addresses where nothing listens: ports below 1024 that no one here
  // serves and that are never handed out as the local end of a connection.
  const [pgPort, redisPort] = [1, 2];
  const downConfig = toConfig(
    readEnv({
      DATABASE_URL: `postgres://postgres@127.0.0.1:${pgPort}/test`,
      REDIS_URL: `redis://127.0.0.1:${redisPort}`,
      PUBLIC_URL: 'http://api.test',
      LOG_LEVEL: 'silent',
      REPORT_LINK_SECRET: SECRET,
      INBOUND_DOMAIN,
    }),
  );
  const downCtx = createContext(downConfig);
  down = await buildApp(downCtx);
  closeDown = async () => {
    await down.close();
    await downCtx.close();
  };

  // The service without a test-message domain or a link secret.
  bare = await buildApp(
    createContext(
      { ...svc.apiConfig, inboundDomain: undefined, reportLinkSecret: undefined },
      { sql: svc.sql, redis: svc.ctx.redis, queue: svc.ctx.queue, tasks: svc.ctx.tasks },
    ),
  );

  inbound = await startInbound(toInboundConfig(readEnv(inboundEnv(svc, lab))));
  worker = await svc.startWorker();

  const r = await svc.app.inject({ url: '/openapi.json' });
  assert.equal(r.statusCode, 200);
  doc = r.json() as Doc;
  // JSON Schema 2020-12 as OpenAPI 3.1 uses it, strict: a keyword Ajv does not know is an error.
  ajv = new Ajv2020({ strict: true, allErrors: true });
  (addFormatsModule as unknown as (a: Ajv2020) => void)(ajv);
  // OpenAPI 3.1's own schema keywords (its base vocabulary); `components` holds the named schemas,
  // which the responses' `#/components/schemas/...` refs reach under DOC_ID.
  ajv.addVocabulary(['discriminator', 'xml', 'externalDocs', 'example', 'components']);
  ajv.addSchema({ $id: DOC_ID, components: doc.components });
});

after(async () => {
  await inbound?.close();
  await bare?.close();
  await closeDown?.();
  await limited?.close();
  await svc?.close();
  await new Promise((r) => hooks?.close(r));
});

describe('the OpenAPI document', () => {
  it('is a valid OpenAPI 3.1 document (@seriousme/openapi-schema-validator)', async () => {
    const validator = new Validator();
    const result = await validator.validate(structuredClone(doc) as never);
    assert.deepEqual(result.errors, undefined);
    assert.equal(result.valid, true);
    assert.equal(validator.version, '3.1');
  });

  it('compiles with Ajv as JSON Schema 2020-12, strict, every schema of every response', () => {
    let n = 0;
    for (const [path, ops] of Object.entries(doc.paths))
      for (const [method, op] of Object.entries(ops))
        for (const [status, r] of Object.entries(op.responses))
          for (const [type, m] of Object.entries(r.content ?? {})) {
            if (!m.schema) continue;
            validatorAt(
              `#/paths/${pointer(path)}/${method}/responses/${status}/content/${pointer(type)}/schema`,
              m.schema,
            );
            n++;
          }
    assert.ok(n > 100, `${n} response schemas`);
  });

  it("every example in it matches its schema (schemas' examples, parameters' and bodies' example)", () => {
    const wrong: string[] = [];
    let n = 0;
    const walk = (node: unknown, ptr: string): void => {
      if (!node || typeof node !== 'object') return;
      const o = node as Json;
      if (Array.isArray(o.examples) && ptr.includes('/schemas/')) {
        for (const example of o.examples) {
          n++;
          const e = schemaErrors(validatorAt(`${ptr} examples`, o), example);
          if (e) wrong.push(`${ptr}: ${JSON.stringify(example)}: ${e}`);
        }
      }
      if ('example' in o && o.schema && typeof o.schema === 'object') {
        n++;
        const e = schemaErrors(validatorAt(`${ptr} example`, o.schema as Json), o.example);
        if (e) wrong.push(`${ptr}: ${JSON.stringify(o.example)}: ${e}`);
      }
      for (const [k, v] of Object.entries(o)) if (k !== 'examples' && k !== 'example') walk(v, `${ptr}/${pointer(k)}`);
    };
    walk(doc, '#');
    assert.deepEqual(wrong, []);
    assert.ok(n >= 20, `${n} examples`);
  });
});

describe('every operation against the document', () => {
  let auditId: string;
  let reportId: string;
  let earlierReportId: string;
  let messageTestId: string;
  let overviewUrl: URL;

  it('health, readiness, metrics, the report schema', async () => {
    await exercise('GET /healthz', 'up', { key: null }, 200);
    await exercise('GET /healthz', 'a query it does not take', { key: null, query: 'x=1' }, 200);
    await exercise('GET /readyz', 'ready', { key: null }, 200);
    const nr = await exercise('GET /readyz', 'Postgres and Redis unreachable', { key: null, app: down }, 503);
    assert.equal(nr.json().status, 'not ready');
    await exercise('GET /metrics', 'the series', { key: null }, 200);
    const s = await exercise('GET /v1/schemas/report.json', 'the schema', { key: null }, 200);
    assert.equal(s.json().$id, 'mailaudit.report/1');
  });

  it('settings: PUT and GET, with a webhook URL to a loopback server', async () => {
    const op = 'PUT /v1/settings';
    const valid: Call = { body: { webhookUrl: hookUrl, timezone: 'Europe/Istanbul' } };
    const put = await exercise(op, 'a webhook URL and a time zone', valid, 200);
    assert.match(String(put.json().webhookSecret), /^whsec_/);
    await exercise(op, 'an hour out of range', { body: { nightlyHour: 30 } }, 400);
    await exercise(op, 'not an IANA time zone', { body: { timezone: 'Europe/Nowhere' } }, 400);
    await exercise(op, 'a field it does not take', { body: { colour: 'red' } }, 400);
    await exercise(op, 'malformed JSON', { raw: '{"timezone": ' }, 400);
    await exercise(op, 'a webhook URL with credentials', { body: { webhookUrl: 'https://u:p@example.com/' } }, 400);
    await commonRefusals(op, valid);

    const get = 'GET /v1/settings';
    const got = await exercise(get, 'the settings', {}, 200);
    assert.equal(got.json().webhookUrl, hookUrl);
    await exercise(get, 'read scope alone', { key: readA }, 200);
    await commonRefusals(get, {});
  });

  it('branding: PUT and GET, and the logo served from our origin', async () => {
    const op = 'PUT /v1/settings/branding';
    const valid: Call = {
      body: { productName: 'Example Hosting', accentColor: '#0a5cad', logo: `data:image/png;base64,${PNG}` },
    };
    await exercise(op, 'a name, a colour and an uploaded logo', valid, 200);
    await exercise(op, 'a colour that is not #rrggbb', { body: { accentColor: 'red' } }, 400);
    await exercise(op, 'a sender that is not an address', { body: { senderAddress: 'nobody' } }, 400);
    await exercise(op, 'a name with a NUL, which Postgres cannot store', { body: { productName: 'a\u0000b' } }, 400);
    await exercise(op, 'a support URL that is not http(s)', { body: { supportUrl: 'ftp://x' } }, 400);
    await exercise(
      op,
      'a logo both uploaded and by URL',
      { body: { logo: `data:image/png;base64,${PNG}`, logoUrl: notAnImageUrl } },
      400,
    );
    const bad = await exercise(op, 'a logo URL that serves no image', { body: { logoUrl: notAnImageUrl } }, 422);
    assert.equal(errorCode(bad), 'logo_unavailable');
    await commonRefusals(op, valid);

    const get = 'GET /v1/settings/branding';
    const b = await exercise(get, 'the branding', { key: readA }, 200);
    assert.equal(b.json().productName, 'Example Hosting');
    await commonRefusals(get, {});

    const logo = 'GET /brand/{tenant}/logo';
    const png = await exercise(logo, 'the logo', { key: null, params: { tenant: tenantA } }, 200);
    assert.equal(png.headers['content-type'], 'image/png');
    await exercise(logo, 'the logo, versioned', { key: null, params: { tenant: tenantA }, query: 'v=abc' }, 200);
    await exercise(logo, 'a tenant without a logo', { key: null, params: { tenant: tenantB } }, 404);
    await exercise(logo, 'not a tenant id', { key: null, params: { tenant: 'nobody' } }, 404);
    await exercise(logo, 'a tenant id too long for the schema', { key: null, params: { tenant: 'x'.repeat(65) } }, 400);
    await exercise(
      logo,
      'a version too long',
      { key: null, params: { tenant: tenantA }, query: `v=${'x'.repeat(33)}` },
      400,
    );
    await commonRefusals(logo, { key: null, params: { tenant: tenantA } });
  });

  it('domains: PUT one, PUT many, GET one, the overview', async () => {
    const op = 'PUT /v1/domains/{domain}';
    const valid: Call = {
      params: { domain: 'good.test' },
      body: { nightly: true, recipients: ['ops@good.test'], dkimSelectors: ['default'] },
    };
    await exercise(op, 'registered', valid, 201);
    await exercise(op, 'updated', valid, 200);
    await exercise(op, 'another', { params: { domain: 'dmarc-none.test' }, body: { nightly: true } }, 201);
    await exercise(
      op,
      'the test messages domain',
      { params: { domain: SENDER_DOMAIN }, body: { nightly: false } },
      201,
    );
    await exercise(
      op,
      'a name of 253 characters',
      { params: { domain: `${'a'.repeat(63)}.${'b'.repeat(63)}.${'c'.repeat(63)}.${'d'.repeat(61)}` }, body: {} },
      201,
    );
    const inv = await exercise(op, 'not a domain name', { params: { domain: 'not a domain' }, body: {} }, 400);
    assert.ok(['invalid_domain', 'validation_failed'].includes(errorCode(inv)), inv.body);
    const r = await exercise(
      op,
      'a recipient that is not an address',
      { params: { domain: 'good.test' }, body: { recipients: ['nobody'] } },
      400,
    );
    assert.equal(r.json().error && (r.json().error as Json).field, '/body/recipients/0');
    await exercise(op, 'a field it does not take', { params: { domain: 'good.test' }, body: { nightlyy: true } }, 400);
    await exercise(
      op,
      'a language for an address not a recipient',
      { params: { domain: 'good.test' }, body: { recipientLocales: { 'x@good.test': 'tr' } } },
      400,
    );
    await commonRefusals(op, valid);

    const bulk = 'PUT /v1/domains';
    const many: Call = { body: { domains: [{ domain: 'nomx.test', nightly: false }, { domain: 'not a domain' }] } };
    const res = await exercise(bulk, 'one valid item, one not', many, 200);
    assert.deepEqual(
      (res.json().results as Json[]).map((x) => x.status),
      ['created', 'error'],
    );
    await exercise(bulk, 'the same again: unchanged', many, 200);
    await exercise(bulk, 'no items', { body: { domains: [] } }, 400);
    await exercise(bulk, 'not a list', { body: { domains: 'nomx.test' } }, 400);
    await commonRefusals(bulk, many);

    const one = 'GET /v1/domains/{domain}';
    await exercise(one, 'registered', { params: { domain: 'good.test' }, key: readA }, 200);
    await exercise(one, 'not registered', { params: { domain: 'nxdomain.test' } }, 404);
    await exercise(one, "another tenant's", { params: { domain: 'good.test' }, key: keyB }, 404);
    await exercise(one, 'not a domain name', { params: { domain: '-bad-.test' } }, 400);
    await commonRefusals(one, { params: { domain: 'good.test' } });
  });

  it('audits: POST one and a batch, idempotency, GET one, the list', async () => {
    const op = 'POST /v1/audits';
    const valid: Call = { body: { domain: 'good.test' } };
    const first = await exercise(op, 'one domain', valid, 202);
    assert.match(String(first.headers.location), /\/v1\/audits\//);
    const batch = await exercise(op, 'a batch', { body: { domains: ['dmarc-none.test', 'nomx.test'] } }, 202);
    const idem: Call = { body: { domain: SENDER_DOMAIN }, headers: { 'idempotency-key': 'contract-1' } };
    const once = await exercise(op, 'with an Idempotency-Key', idem, 202);
    const again = await exercise(op, 'the same key again: replayed', idem, 202);
    assert.equal(again.headers['idempotent-replayed'], 'true');
    assert.equal(again.json().id, once.json().id);
    await exercise(op, 'the same key, another body', { ...idem, body: { domain: 'good.test' } }, 409);
    await exercise(op, 'not a domain name', { body: { domain: '-bad-' } }, 400);
    await exercise(op, 'neither domain nor domains', { body: {} }, 400);
    await exercise(op, 'a selector that is not one', { body: { domain: 'good.test', dkimSelectors: ['a b'] } }, 400);
    await exercise(op, 'malformed JSON', { raw: '{"domain": ' }, 400);
    await commonRefusals(op, valid);

    auditId = String(first.json().id);
    const done = await audited(auditId);
    assert.equal(done.status, 'done');
    earlierReportId = String(done.reportId);
    for (const a of batch.json().audits as Json[]) await audited(String(a.id));
    await audited(String(once.json().id));
    // A second report of good.test, for the diff.
    const second = await exercise(op, 'one domain again', valid, 202);
    auditId = String(second.json().id);
    reportId = String((await audited(auditId)).reportId);

    const get = 'GET /v1/audits/{id}';
    const g = await exercise(get, 'done, with its report', { params: { id: auditId }, key: readA }, 200);
    assert.equal((g.json().report as Json).schema, 'mailaudit.report/1');
    // The report's own JSON Schema, as the API serves it, takes the report as the API serves it.
    const own = new Ajv2020({ strict: true, allErrors: true });
    (addFormatsModule as unknown as (a: Ajv2020) => void)(own);
    const reportSchema = (await send('GET /v1/schemas/report.json', { key: null })).json();
    const validReport = own.compile(reportSchema);
    assert.equal(schemaErrors(validReport, g.json().report), undefined);
    await exercise(get, 'in Turkish', { params: { id: auditId }, headers: { 'accept-language': 'tr' } }, 200);
    await exercise(get, 'not a UUID', { params: { id: 'nope' } }, 400);
    await exercise(get, 'no such audit', { params: { id: UNKNOWN_UUID } }, 404);
    await exercise(get, "another tenant's", { params: { id: auditId }, key: keyB }, 404);
    await commonRefusals(get, { params: { id: auditId } });

    const list = 'GET /v1/audits';
    const p1 = await exercise(list, 'a page of one, filtered', { query: 'limit=1&status=done&domain=good.test' }, 200);
    const cursor = p1.json().nextCursor;
    assert.equal(typeof cursor, 'string');
    await exercise(list, 'the next page', { query: `limit=1&status=done&domain=good.test&cursor=${cursor}` }, 200);
    await exercise(list, 'a time window', { query: 'since=2026-01-01T00:00:00Z&until=2099-01-01T00:00:00Z' }, 200);
    const st = await exercise(list, 'a status that is none', { query: 'status=finished' }, 400);
    assert.ok(Array.isArray((st.json().error as Json).allowed), st.body);
    await exercise(list, 'a limit that is not a number', { query: 'limit=ten' }, 400);
    await exercise(list, 'a limit over 500', { query: 'limit=501' }, 400);
    await exercise(list, 'a forged cursor', { query: `cursor=${Buffer.from('["x"]').toString('base64url')}` }, 400);
    await exercise(list, 'a parameter it does not take', { query: 'sort=domain' }, 400);
    await commonRefusals(list, {});
  });

  it('the overview, findings and codes', async () => {
    const op = 'GET /v1/domains';
    await exercise(op, 'every domain', { key: readA }, 200);
    const p = await exercise(
      op,
      'filtered and sorted, a page of one',
      { query: 'grade=A%2B,A,B&sort=-score&limit=1' },
      200,
    );
    if (p.json().nextCursor)
      await exercise(
        op,
        'the next page',
        { query: `grade=A%2B,A,B&sort=-score&limit=1&cursor=${p.json().nextCursor}` },
        200,
      );
    await exercise(op, 'by code and severity', { query: 'code=dmarc.policy.none&severity=warning&audited=true' }, 200);
    await exercise(
      op,
      'changed since',
      { query: 'changedSince=2026-01-01T00:00:00Z&outcome=complete&category=dmarc' },
      200,
    );
    const g = await exercise(op, 'a grade that is none', { query: 'grade=Z' }, 400);
    assert.equal((g.json().error as Json).field, '/query/grade');
    await exercise(op, 'a sort that is none', { query: 'sort=colour' }, 400);
    await exercise(op, 'a date that is not one', { query: 'changedSince=yesterday' }, 400);
    await exercise(op, 'by prefix', { query: 'prefix=good' }, 200);
    const nul = await exercise(op, 'a prefix with a NUL', { query: 'prefix=%00' }, 400);
    assert.equal((nul.json().error as Json).field, '/query/prefix');
    await commonRefusals(op, {});

    const f = 'GET /v1/findings';
    const all = await exercise(f, 'every finding', {}, 200);
    assert.ok(
      (all.json().findings as Json[]).some((x) => x.code === 'dmarc.policy.none'),
      all.body,
    );
    await exercise(f, 'one code, one domain', { query: 'code=dmarc.policy.none&domain=dmarc-none.test&limit=1' }, 200);
    await exercise(f, 'a severity that is none', { query: 'severity=fatal' }, 400);
    await exercise(f, 'a code that is none', { query: 'code=dmarc.nope' }, 400);
    await commonRefusals(f, {});

    const c = 'GET /v1/codes';
    const en = await exercise(c, 'in English', {}, 200);
    assert.equal(en.headers['content-language'], 'en');
    const tr = await exercise(
      c,
      'in Turkish by Accept-Language',
      { headers: { 'accept-language': 'tr-TR,tr;q=0.9' } },
      200,
    );
    assert.equal(tr.headers['content-language'], 'tr');
    await exercise(c, 'in Turkish by lang', { query: 'lang=tr' }, 200);
    await exercise(c, 'a language it does not have', { query: 'lang=xx' }, 400);
    await commonRefusals(c, {});
  });

  it("a domain's reports, one report, the latest, the diff, the changes", async () => {
    const d = { domain: 'good.test' };
    const list = 'GET /v1/domains/{domain}/reports';
    const p = await exercise(list, 'newest first, a page of one', { params: d, query: 'limit=1' }, 200);
    await exercise(list, 'the next page', { params: d, query: `limit=1&cursor=${p.json().nextCursor}` }, 200);
    await exercise(list, 'a domain never audited', { params: { domain: 'nxdomain.test' } }, 200);
    await exercise(list, 'a limit of 0', { params: d, query: 'limit=0' }, 400);
    await exercise(list, 'not a domain name', { params: { domain: 'a..b' } }, 400);
    await commonRefusals(list, { params: d });

    const one = 'GET /v1/domains/{domain}/reports/{id}';
    await exercise(one, 'the report', { params: { ...d, id: reportId } }, 200);
    await exercise(one, 'without the evidence', { params: { ...d, id: reportId }, query: 'view=summary' }, 200);
    await exercise(one, 'a view that is none', { params: { ...d, id: reportId }, query: 'view=brief' }, 400);
    await exercise(one, 'not a UUID', { params: { ...d, id: 'nope' } }, 400);
    await exercise(one, 'under another domain', { params: { domain: 'dmarc-none.test', id: reportId } }, 404);
    await exercise(one, "another tenant's", { params: { ...d, id: reportId }, key: keyB }, 404);
    await commonRefusals(one, { params: { ...d, id: reportId } });

    const latest = 'GET /v1/domains/{domain}/latest';
    const l = await exercise(latest, 'the latest', { params: d }, 200);
    assert.equal(l.json().id, reportId);
    await exercise(latest, 'the latest, summary', { params: d, query: 'view=summary' }, 200);
    await exercise(latest, 'a domain never audited', { params: { domain: 'nxdomain.test' } }, 404);
    await exercise(latest, 'a view that is none', { params: d, query: 'view=all' }, 400);
    await commonRefusals(latest, { params: d });

    // An inconclusive report of good.test: audited by a worker whose resolver answers nothing.
    await worker.close();
    const blind = await svc.startWorker({ resolvers: ['127.0.0.1:9'] });
    const queued = await send('POST /v1/audits', { body: { domain: 'good.test' } });
    const inconclusive = await audited(String(queued.json().id));
    await blind.close();
    worker = await svc.startWorker();
    assert.equal((inconclusive.report as Json).outcome, 'inconclusive', JSON.stringify(inconclusive));

    const diff = 'GET /v1/domains/{domain}/diff';
    await exercise(diff, 'the two latest conclusive', { params: d }, 200);
    await exercise(
      diff,
      'to an inconclusive report',
      { params: d, query: `from=${reportId}&to=${inconclusive.reportId}` },
      409,
    );
    await exercise(diff, 'from and to', { params: d, query: `from=${earlierReportId}&to=${reportId}` }, 200);
    await exercise(diff, 'from without to', { params: d, query: `from=${earlierReportId}` }, 400);
    await exercise(diff, 'not a UUID', { params: d, query: 'from=x&to=y' }, 400);
    await exercise(diff, 'a domain with one report', { params: { domain: 'nomx.test' } }, 404);
    await exercise(
      diff,
      "another tenant's",
      { params: d, query: `from=${earlierReportId}&to=${reportId}`, key: keyB },
      404,
    );
    await commonRefusals(diff, { params: d });

    const changes = 'GET /v1/domains/{domain}/changes';
    const ch = await exercise(changes, 'newest first', { params: d }, 200);
    assert.ok((ch.json().changes as Json[]).length >= 1, ch.body);
    await exercise(changes, 'a forged cursor', { params: d, query: 'cursor=bm9wZQ' }, 400);
    await commonRefusals(changes, { params: d });
  });

  it('webhooks: rotation, a test delivery, the delivery log', async () => {
    const rotate = 'POST /v1/settings/webhook/rotate';
    const valid: Call = { body: { previousValidForSeconds: 60 } };
    const r = await exercise(rotate, 'with a time for the old secret', valid, 200);
    assert.match(String(r.json().webhookSecret), /^whsec_/);
    await exercise(rotate, 'no body: the defaults', {}, 200);
    await exercise(rotate, 'a time out of range', { body: { previousValidForSeconds: -1 } }, 400);
    await exercise(rotate, 'no webhook URL set', { key: keyB, body: {} }, 409);
    await commonRefusals(rotate, valid);

    const test = 'POST /v1/settings/webhook/test';
    const t = await exercise(test, 'a test delivery', {}, 202);
    const deliveryId = String(t.json().deliveryId);
    await exercise(test, 'no webhook URL set', { key: keyB }, 409);
    await exercise(test, 'malformed JSON', { raw: '{' }, 400);
    await commonRefusals(test, {});
    await eventually('the test delivery', async () => received.find((x) => x.headers['webhook-id'] === deliveryId));

    const log = 'GET /v1/webhooks/deliveries';
    const p = await exercise(log, 'a page of one', { query: 'limit=1' }, 200);
    assert.equal(typeof p.json().nextCursor, 'string', p.body);
    await exercise(log, 'the next page', { query: `limit=1&cursor=${p.json().nextCursor}` }, 200);
    await exercise(log, 'a limit that is not a number', { query: 'limit=-1' }, 400);
    await commonRefusals(log, {});
  });

  it('test messages: an address, a message through mailaudit inbound, the list and one', async () => {
    const op = 'POST /v1/domains/{domain}/test-address';
    const valid: Call = { params: { domain: SENDER_DOMAIN }, body: { validHours: 2 } };
    const a = await exercise(op, 'an address', valid, 201);
    await exercise(op, 'no body: the defaults', { params: { domain: SENDER_DOMAIN } }, 201);
    await exercise(op, 'audit scope alone', { params: { domain: SENDER_DOMAIN }, key: auditA }, 201);
    await exercise(op, 'a domain not registered', { params: { domain: 'nxdomain.test' }, body: {} }, 404);
    await exercise(op, "another tenant's domain", { params: { domain: SENDER_DOMAIN }, key: keyB, body: {} }, 404);
    await exercise(op, 'hours out of range', { params: { domain: SENDER_DOMAIN }, body: { validHours: 0 } }, 400);
    const nc = await exercise(op, 'no INBOUND_DOMAIN', { ...valid, app: bare }, 501);
    assert.equal(errorCode(nc), 'not_configured');
    await commonRefusals(op, valid);

    await sendTestMessage(String(a.json().address));
    const d = { domain: SENDER_DOMAIN };
    const list = 'GET /v1/domains/{domain}/message-tests';
    const l = await eventually('the message test', async () => {
      const x = await send(list, { params: d });
      return (x.json().messageTests as Json[] | undefined)?.length ? x : undefined;
    });
    messageTestId = String((l.json().messageTests as Json[])[0]?.id);
    await exercise(list, 'newest first', { params: d }, 200);
    await exercise(list, "another tenant's: none", { params: d, key: keyB }, 200);
    await exercise(list, 'a limit that is not a number', { params: d, query: 'limit=x' }, 400);
    await commonRefusals(list, { params: d });

    const one = 'GET /v1/domains/{domain}/message-tests/{id}';
    const m = await exercise(one, 'with its analysis', { params: { ...d, id: messageTestId } }, 200);
    assert.equal(m.json().spf, 'pass', m.body);
    await exercise(one, 'not a UUID', { params: { ...d, id: 'x' } }, 400);
    await exercise(one, "another tenant's", { params: { ...d, id: messageTestId }, key: keyB }, 404);
    await exercise(one, 'no such test', { params: { ...d, id: UNKNOWN_UUID } }, 404);
    await commonRefusals(one, { params: { ...d, id: messageTestId } });
  });

  it('the nightly cycle, its runs and emails', async () => {
    const op = 'POST /v1/nightly/run';
    await exercise(op, 'now', {}, 202);
    await exercise(op, 'a force that is neither true nor false', { query: 'force=maybe' }, 400);
    await commonRefusals(op, {});
    const runs = 'GET /v1/nightly/runs';
    await eventually(
      'the night',
      async () => {
        const r = (await send(runs, {})).json().runs as Json[];
        return r.length && r[0]?.status === 'done' ? r : undefined;
      },
      60_000,
    );
    const p = await exercise(runs, 'the runs', { key: readA }, 200);
    assert.ok((p.json().runs as Json[]).length >= 1);
    await exercise(runs, 'a forged cursor', { query: 'cursor=W10' }, 400);
    await commonRefusals(runs, {});

    const emails = 'GET /v1/emails';
    await exercise(emails, 'the emails', {}, 200);
    await exercise(emails, 'a limit too large', { query: 'limit=9999' }, 400);
    await commonRefusals(emails, {});
  });

  it('pages: the report, the overview link and page, unsubscribe', async () => {
    const link = 'POST /v1/overview-link';
    const valid: Call = { body: { days: 7 } };
    const l = await exercise(link, 'valid a week', valid, 200);
    overviewUrl = new URL(String(l.json().url));
    await exercise(link, 'read scope alone', { key: readA, body: {} }, 200);
    await exercise(link, 'no body', {}, 400);
    await exercise(link, 'days out of range', { body: { days: 0 } }, 400);
    const ns = await exercise(link, 'no REPORT_LINK_SECRET', { ...valid, app: bare }, 503);
    assert.equal(errorCode(ns), 'unavailable');
    await commonRefusals(link, valid);

    const page = 'GET /o/{tenant}';
    const q = overviewUrl.searchParams;
    const base = `e=${q.get('e')}&t=${q.get('t')}`;
    await exercise(page, 'the overview', { key: null, params: { tenant: tenantA }, query: base }, 200);
    await exercise(
      page,
      'sorted, filtered, in Turkish',
      { key: null, params: { tenant: tenantA }, query: `${base}&sort=score&dir=desc&grade=A%2B&grade=B&lang=tr` },
      200,
    );
    await exercise(
      page,
      'a broken token',
      { key: null, params: { tenant: tenantA }, query: `e=${q.get('e')}&t=x` },
      404,
    );
    await exercise(page, "another tenant's token", { key: null, params: { tenant: tenantB }, query: base }, 404);
    const past = Math.floor(Date.now() / 1000) - 60;
    await exercise(
      page,
      'expired',
      { key: null, params: { tenant: tenantA }, query: `e=${past}&t=${overviewLinkToken(SECRET, tenantA, past)}` },
      410,
    );
    await exercise(
      page,
      'a token too long',
      { key: null, params: { tenant: tenantA }, query: `e=1&t=${'x'.repeat(65)}` },
      400,
    );
    await commonRefusals(page, { key: null, params: { tenant: tenantA }, query: base });

    const report = 'GET /r/{id}';
    const t = reportLinkToken(SECRET, reportId);
    const r = await exercise(report, 'the report page', { key: null, params: { id: reportId }, query: `t=${t}` }, 200);
    assert.match(r.body, /good\.test/);
    await exercise(report, 'in Turkish', { key: null, params: { id: reportId }, query: `t=${t}&lang=tr` }, 200);
    await exercise(report, 'a broken token', { key: null, params: { id: reportId }, query: `t=${t.slice(1)}x` }, 404);
    await exercise(report, 'not a report', { key: null, params: { id: UNKNOWN_UUID }, query: `t=${t}` }, 404);
    await exercise(
      report,
      'an id too long for the schema',
      { key: null, params: { id: 'x'.repeat(65) }, query: `t=${t}` },
      400,
    );
    await commonRefusals(report, { key: null, params: { id: reportId }, query: `t=${t}` });

    const token = unsubscribeToken(SECRET, tenantA, 'ops@good.test');
    const get = 'GET /u/{token}';
    await exercise(get, 'the preferences page', { key: null, params: { token } }, 200);
    await exercise(get, 'a broken token', { key: null, params: { token: `${token}x` } }, 404);
    await exercise(get, 'a language too long', { key: null, params: { token }, query: `lang=${'x'.repeat(36)}` }, 400);
    await commonRefusals(get, { key: null, params: { token } });

    const post = 'POST /u/{token}';
    const oneClick: Call = {
      key: null,
      params: { token },
      raw: 'List-Unsubscribe=One-Click',
      type: 'application/x-www-form-urlencoded',
    };
    await exercise(post, 'one click (RFC 8058)', oneClick, 200);
    await exercise(post, 'one click again', oneClick, 200);
    const boundary = 'xYzZY';
    await exercise(
      post,
      'one click as multipart',
      {
        key: null,
        params: { token },
        raw: `--${boundary}\r\nContent-Disposition: form-data; name="List-Unsubscribe"\r\n\r\nOne-Click\r\n--${boundary}--\r\n`,
        type: `multipart/form-data; boundary=${boundary}`,
      },
      200,
    );
    await exercise(post, 'no body', { key: null, params: { token } }, 200);
    await exercise(post, 'a broken token', { ...oneClick, params: { token: `${token}x` } }, 404);
    await exercise(post, 'a field too long', { ...oneClick, raw: `List-Unsubscribe=${'x'.repeat(101)}` }, 400);
    await commonRefusals(post, oneClick);
    const optOuts = 'GET /v1/emails/opt-outs';
    const o = await exercise(optOuts, 'the address unsubscribed', { key: readA }, 200);
    assert.deepEqual(
      (o.json().optOuts as Json[]).map((x) => x.address),
      ['ops@good.test'],
    );
    await commonRefusals(optOuts, {});
    await exercise(post, 'resubscribe', { ...oneClick, raw: 'action=resubscribe' }, 200);
  });

  it('DELETE a domain', async () => {
    const op = 'DELETE /v1/domains/{domain}';
    const valid: Call = { params: { domain: 'nomx.test' } };
    await exercise(op, "another tenant's", { ...valid, key: keyB }, 404);
    await commonRefusals(op, valid);
    await exercise(op, 'registered', valid, 204);
    await exercise(op, 'no longer registered', valid, 404);
    await exercise(op, 'not a domain name', { params: { domain: 'a b' } }, 400);
  });

  it('with Postgres and Redis unreachable, every operation that documents 503 answers it', async () => {
    assert.ok(unavailable.length > 20, `${unavailable.length} calls`);
    await Promise.all(unavailable);
  });

  it('the webhooks delivered match the document: payload and Standard Webhooks headers', async () => {
    assert.ok(doc.webhooks, 'the document describes the webhooks');
    await eventually('an audit.completed webhook', async () =>
      received.find((r) => (JSON.parse(r.body) as Json).event === 'audit.completed'),
    );
    const events = new Set<string>();
    for (const r of received) {
      const event = String((JSON.parse(r.body) as Json).event);
      assert.ok(doc.webhooks[event], `${event} is not among the document's webhooks`);
      const headers: Answer['headers'] = { ...r.headers };
      const spec = doc.webhooks[event]?.post as Operation;
      for (const p of spec.parameters ?? []) {
        if (p.in !== 'header') continue;
        const v = headers[p.name];
        if (v === undefined) assert.ok(!p.required, `${event}: header ${p.name} is missing`);
        else if (p.schema) {
          const e = schemaErrors(validatorAt(`webhook ${event} ${p.name}`, p.schema), String(v));
          assert.equal(e, undefined, `${event}: header ${p.name}: ${v}`);
        }
      }
      const schema = spec.requestBody?.content['application/json']?.schema as Json;
      const e = schemaErrors(validatorAt(`webhook ${event} body`, schema), JSON.parse(r.body));
      assert.equal(e, undefined, `${event}: ${r.body}`);
      events.add(event);
    }
    assert.ok(events.has('webhook.test') && events.has('audit.completed'), [...events].join(', '));
  });

  it('every operation of the document was called, with valid input and, where it documents errors, invalid input', (t) => {
    const all = operations(doc);
    const called = new Set(calls.map((c) => c.op));
    assert.deepEqual(
      [...called].filter((op) => !all.includes(op)),
      [],
      'calls to operations the document lacks',
    );
    assert.deepEqual(
      all.filter((op) => !called.has(op)),
      [],
      'operations never called',
    );
    assert.deepEqual(
      all.filter((op) => !okOf.has(op)),
      [],
      'operations never called with valid input',
    );
    const withErrors = all.filter((op) => Object.keys(operation(op).spec.responses).some((s) => /^[45]/.test(s)));
    assert.deepEqual(
      withErrors.filter((op) => !errorOf.has(op)),
      [],
      'operations with documented errors never called with invalid input',
    );
    assert.deepEqual(
      calls.filter((c) => c.problems.length),
      [],
    );
    // How much of each operation's documented statuses the calls reached.
    let documented = 0;
    let reached = 0;
    const missed: string[] = [];
    for (const op of all) {
      const statuses = Object.keys(operation(op).spec.responses);
      const got = new Set([...(okOf.get(op) ?? []), ...(errorOf.get(op) ?? [])].map(String));
      documented += statuses.length;
      reached += statuses.filter((s) => got.has(s)).length;
      for (const s of statuses) if (!got.has(s)) missed.push(`${op} ${s}`);
    }
    t.diagnostic(
      `${all.length} operations, ${calls.length} calls (${calls.filter((c) => c.status < 400).length} valid, ${calls.filter((c) => c.status >= 400).length} invalid), ${reached} of ${documented} documented statuses answered, ${Math.round((Date.now() - t0) / 100) / 10} s`,
    );
    // architecture.md: a route documents only the statuses it can answer, and this test holds it to them.
    assert.deepEqual(missed, [], 'documented statuses no call answered');
    const slow = [...calls].sort((a, b) => b.ms - a.ms).slice(0, 5);
    t.diagnostic(`slowest calls: ${slow.map((c) => `${c.op} (${c.name}) ${c.ms} ms`).join('; ')}`);
  });
});

/** One request written to the socket as it is, and the whole answer (the server closes). */
function overTheWire(port: number, request: string): Promise<{ status: number; type: string; body: string }> {
  return new Promise((resolve, reject) => {
    const socket = connect(port, '127.0.0.1', () => socket.write(request));
    const chunks: Buffer[] = [];
    socket.on('data', (c: Buffer) => chunks.push(c));
    socket.on('error', reject);
    socket.on('close', () => {
      const text = Buffer.concat(chunks).toString('utf8');
      const [head = '', body = ''] = text.split('\r\n\r\n', 2);
      resolve({
        status: Number(/^HTTP\/1\.1 (\d{3})/.exec(head)?.[1]),
        type: /^content-type: *([^\r]*)/im.exec(head)?.[1] ?? '',
        body,
      });
    });
    socket.setTimeout(10_000, () => socket.destroy(new Error('no answer')));
  });
}

describe('limits over a real socket', () => {
  it("every refusal, the router's and Node's HTTP parser's, answers in the one error shape", async () => {
    await svc.app.listen({ port: 0, host: '127.0.0.1' });
    const port = (svc.app.server.address() as AddressInfo).port;
    const error = validatorAt('#/components/schemas/Error', { $ref: '#/components/schemas/Error' });
    const auth = `Authorization: Bearer ${keyA}\r\n`;
    const name253 = `${'a'.repeat(63)}.${'b'.repeat(63)}.${'c'.repeat(63)}.${'d'.repeat(61)}`;
    const cases: [string, string, number, string][] = [
      [
        'a URL of 20 KB',
        `GET /v1/audits?domain=${'a'.repeat(20_000)} HTTP/1.1\r\nHost: x\r\n${auth}\r\n`,
        431,
        'headers_too_large',
      ],
      [
        'a header of 20 KB',
        `GET /healthz HTTP/1.1\r\nHost: x\r\nX-Big: ${'a'.repeat(20_000)}\r\n\r\n`,
        431,
        'headers_too_large',
      ],
      ['not HTTP', 'HELLO\r\n\r\n', 400, 'bad_request'],
      [
        'a Content-Length that is not a number',
        `POST /v1/audits HTTP/1.1\r\nHost: x\r\nContent-Length: abc\r\n\r\n`,
        400,
        'bad_request',
      ],
      [
        'a path segment of 5,000 characters',
        `GET /v1/domains/${'a'.repeat(5000)} HTTP/1.1\r\nHost: x\r\n${auth}Connection: close\r\n\r\n`,
        414,
        'uri_too_long',
      ],
      [
        'a domain of 254 characters',
        `GET /v1/domains/${name253}a HTTP/1.1\r\nHost: x\r\n${auth}Connection: close\r\n\r\n`,
        400,
        'invalid_domain',
      ],
      [
        'a body announced over the limit',
        `POST /v1/audits HTTP/1.1\r\nHost: x\r\n${auth}Content-Type: application/json\r\nContent-Length: 9999999\r\nConnection: close\r\n\r\n{}`,
        413,
        'payload_too_large',
      ],
      [
        'a bad percent-encoding',
        `GET /v1/domains/%ZZ HTTP/1.1\r\nHost: x\r\n${auth}Connection: close\r\n\r\n`,
        400,
        'bad_request',
      ],
    ];
    for (const [name, request, status, code] of cases) {
      const r = await overTheWire(port, request);
      assert.equal(r.status, status, `${name}: ${r.status} ${r.body}`);
      assert.match(r.type, /^application\/json/, name);
      const body = JSON.parse(r.body) as Json;
      assert.equal(schemaErrors(error, body), undefined, `${name}: ${r.body}`);
      assert.equal((body.error as Json).code, code, `${name}: ${r.body}`);
    }
    // A domain name of 253 characters, the longest there is, is a name like any other.
    const ok = await overTheWire(
      port,
      `GET /v1/domains/${name253} HTTP/1.1\r\nHost: x\r\n${auth}Connection: close\r\n\r\n`,
    );
    assert.equal(ok.status, 200, ok.body);
  });
});
