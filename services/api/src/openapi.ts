/**
 * What the OpenAPI document says beyond the routes' TypeBox schemas, in one place: the responses
 * of each status with their description and headers (`ok`, `errorsOf`), the tags, and the last
 * pass over the document (`finishDocument`) that names the schemas.
 *
 * A schema with a `title` is a named component: the title is its name in `components/schemas`,
 * and every place it appears becomes a `$ref` to it. (A `title` is only an annotation, so the
 * validator and the serializer read the schemas as before; an `$id` would not do, since a schema
 * used twice inside one route, as Finding is, makes Ajv refuse the route as ambiguous.)
 */
import { type TSchema, Type } from 'typebox';
import { ErrorBody } from './schemas.js';

/** The resources, in the order the docs show them. */
export const TAGS = [
  { name: 'audits', description: 'Audits of one domain or a batch, queued and run by the workers' },
  { name: 'domains', description: 'Domains registered for nightly audits, and the overview of their latest reports' },
  { name: 'reports', description: "A domain's reports, the latest one, what changed between two" },
  { name: 'findings', description: "Findings of the latest reports across the tenant's domains" },
  { name: 'codes', description: 'The finding codes and categories with their texts, and the report schema' },
  { name: 'message tests', description: 'Test messages sent to a unique address, and what they showed' },
  { name: 'settings', description: "The tenant's nightly settings, webhook URL and secret, branding" },
  { name: 'webhooks', description: 'The webhook delivery log (the events themselves are under "webhooks")' },
  { name: 'nightly', description: 'The nightly cycle: run it now, list the runs' },
  { name: 'emails', description: 'Summary and alert emails with their sending status' },
  { name: 'pages', description: 'HTML pages behind signed links, for people' },
  { name: 'health', description: 'Liveness, readiness and metrics; no key needed' },
] as const;

export type Tag = (typeof TAGS)[number]['name'];

/** A response header as the document states it. */
interface Header {
  description: string;
  schema: Record<string, unknown>;
  required?: boolean;
}

const int = { type: 'integer', minimum: 0 };

/** The headers the API sets, by name: each response says which of them it may carry. */
export const HEADERS = {
  location: {
    description: 'The URL of the audit queued (one domain only)',
    schema: { type: 'string', format: 'uri' },
  },
  'idempotent-replayed': {
    description: '`true` when this is the stored response of an earlier request with the same Idempotency-Key',
    schema: { type: 'string', enum: ['true'] },
  },
  'retry-after': { description: 'Seconds to wait before retrying', schema: int, required: true },
  'www-authenticate': { description: 'The scheme the API takes', schema: { type: 'string', enum: ['Bearer'] } },
  'x-ratelimit-limit': { description: "Requests a minute the key's tenant may make", schema: int },
  'x-ratelimit-remaining': { description: 'Requests left in the current minute', schema: int },
  'x-ratelimit-reset': { description: 'Seconds until the count starts again', schema: int },
  'content-language': { description: 'The language of the texts', schema: { type: 'string', enum: ['en', 'tr'] } },
} satisfies Record<string, Header>;

export type HeaderName = keyof typeof HEADERS;

const RATE = ['x-ratelimit-limit', 'x-ratelimit-remaining', 'x-ratelimit-reset'] as const;

/**
 * The headers of a response as @fastify/swagger takes them (name: schema with its description);
 * a required one is marked `x-required`, which finishDocument turns into the header's `required`.
 */
function headers(names: readonly HeaderName[]): Record<string, Record<string, unknown>> {
  return Object.fromEntries(
    names.map((n) => {
      const h: Header = HEADERS[n];
      return [n, { ...h.schema, description: h.description, ...(h.required ? { 'x-required': true } : {}) }];
    }),
  );
}

/**
 * A success response: its schema (what fastify serializes), with the description and the headers
 * the document gives it. Routes with a key also carry the rate-limit headers (`keyed`, the default).
 */
export function ok<T extends TSchema>(
  schema: T,
  description: string,
  extra: readonly HeaderName[] = [],
  keyed = true,
): T {
  const names = [...(keyed ? RATE : []), ...extra];
  return {
    ...schema,
    'x-response-description': description,
    ...(names.length ? { headers: headers(names) } : {}),
  } as T;
}

/** What each error status means here; every error has the one shape, ErrorBody. */
const ERRORS = {
  400: {
    description:
      'The request is not valid: a field fails its schema (`validation_failed`, with `field` and, for a choice, `allowed`), a name is not a domain (`invalid_domain`, with `field`), or the body is not JSON (`bad_request`)',
    headers: RATE,
  },
  401: { description: 'No API key, or an unknown or revoked one (`unauthorized`)', headers: ['www-authenticate'] },
  403: { description: "The key lacks this route's scope (`forbidden`)", headers: RATE },
  404: { description: "Not found, or another tenant's (`not_found`)", headers: RATE },
  409: { description: 'In conflict with the current state (`conflict`)', headers: RATE },
  413: { description: 'The body is larger than the limit (`payload_too_large`)', headers: RATE },
  414: { description: 'A path segment is longer than any name or id this API takes (`uri_too_long`)', headers: [] },
  415: { description: 'The body is not `application/json` (`unsupported_media_type`)', headers: RATE },
  422: {
    description:
      'Well-formed, but what it names cannot be used: a logo URL that cannot be fetched or is not a PNG, JPEG, WebP or SVG image (`logo_unavailable`)',
    headers: RATE,
  },
  429: {
    description:
      "Too many requests: the tenant's limit a minute (`rate_limited`), failed authentications from this address (`rate_limited`), or audits queued at once (`quota_exceeded`)",
    headers: ['retry-after', ...RATE],
  },
  501: { description: 'This service is not configured for it (`not_configured`)', headers: RATE },
  503: {
    description: 'A data store (Postgres, Redis) or the queue is unavailable; nothing was done (`unavailable`)',
    headers: ['retry-after'],
  },
} satisfies Record<number, { description: string; headers: readonly HeaderName[] }>;

export type ErrorStatus = keyof typeof ERRORS;

/** The error responses `statuses`, each with the one error shape, its description and headers. */
export function errorsOf<S extends ErrorStatus>(...statuses: S[]): Record<S, typeof ErrorBody> {
  return Object.fromEntries(
    statuses.map((s) => [
      s,
      {
        ...ErrorBody,
        'x-response-description': ERRORS[s].description,
        ...(ERRORS[s].headers.length ? { headers: headers(ERRORS[s].headers) } : {}),
      },
    ]),
  ) as unknown as Record<S, typeof ErrorBody>;
}

/** Every route with a key: no key (401), wrong scope (403), limits (429), a store away (503). */
export const KEYED = [401, 403, 429, 503] as const;
/** A route with a body: not JSON or malformed (400), too large (413), another type (415). */
export const BODY = [400, 413, 415] as const;
/** A route with path parameters: one too long for the router (414). */
export const PATH = [414] as const;

/** A non-JSON body of `type` (a page, metrics), for the document only. */
export function media(type: string, description: string, schema: TSchema = Type.String()) {
  return { description, content: { [type]: { schema } } };
}

type Json = Record<string, unknown>;

const isObject = (v: unknown): v is Json => typeof v === 'object' && v !== null && !Array.isArray(v);

/** Sub-schemas of a schema, by the keywords that hold them. */
function* children(s: Json): Generator<[Json | unknown[], string | number]> {
  for (const k of ['properties', 'patternProperties', '$defs']) {
    const m = s[k];
    if (isObject(m)) for (const name of Object.keys(m)) yield [m, name];
  }
  for (const k of ['items', 'additionalProperties', 'not', 'contains', 'if', 'then', 'else'])
    if (isObject(s[k])) yield [s, k];
  for (const k of ['anyOf', 'oneOf', 'allOf', 'prefixItems']) {
    const a = s[k];
    if (Array.isArray(a)) for (let i = 0; i < a.length; i++) yield [a, i];
  }
}

/** Where schemas sit in the document outside components: bodies, responses, parameters, headers. */
function* schemaSlots(doc: Json): Generator<[Json, string]> {
  const operations = (paths: unknown) =>
    Object.values(isObject(paths) ? paths : {}).flatMap((item) =>
      Object.values(isObject(item) ? item : {}).filter(isObject),
    );
  for (const op of [...operations(doc.paths), ...operations(doc.webhooks)]) {
    for (const p of Array.isArray(op.parameters) ? op.parameters : []) if (isObject(p)) yield [p, 'schema'];
    const bodies = [op.requestBody, ...Object.values(isObject(op.responses) ? op.responses : {})];
    for (const b of bodies.filter(isObject)) {
      for (const m of Object.values(isObject(b.content) ? b.content : {})) if (isObject(m)) yield [m, 'schema'];
      for (const h of Object.values(isObject(b.headers) ? b.headers : {})) if (isObject(h)) yield [h, 'schema'];
    }
  }
}

/** The schema without what the document moves elsewhere (examples go to the media object). */
function comparable(s: Json): string {
  const { examples: _e, example: _x, description: _d, ...rest } = s;
  return JSON.stringify(rest);
}

/**
 * The document's last pass: every titled schema becomes `components/schemas/<title>` and a `$ref`
 * wherever it appeared (nested ones too). Two different schemas with one title are a mistake in
 * schemas.ts and fail here, not in a client's generated code.
 */
export function finishDocument(doc: Json): Json {
  const out = JSON.parse(JSON.stringify(doc)) as Json;
  if (!isObject(out.components)) out.components = {};
  const components = out.components as Json;
  if (!isObject(components.schemas)) components.schemas = {};
  const named = components.schemas as Json;
  const seen = new Map<string, string>();

  /** The schema at holder[key], its titled parts (and itself, if titled) turned into $refs. */
  const visit = (holder: Json | unknown[], key: string | number, inParameter: boolean): void => {
    const s = (holder as Record<string | number, unknown>)[key];
    if (!isObject(s) || typeof s.$ref === 'string') return;
    for (const [h, k] of children(s)) visit(h, k, inParameter);
    const name = s.title;
    if (typeof name !== 'string' || inParameter) return;
    const shape = comparable(s);
    const before = seen.get(name);
    if (before === undefined) {
      seen.set(name, shape);
      named[name] = s;
    } else if (before !== shape) {
      throw new Error(`OpenAPI: two different schemas are titled ${name}`);
    } else if (s.examples && !(named[name] as Json).examples) {
      named[name] = s;
    }
    (holder as Record<string | number, unknown>)[key] = { $ref: `#/components/schemas/${name}` };
  };

  // A route whose body may be left out (it defaults to {}) says so with `x-body-optional`.
  for (const item of Object.values(isObject(out.paths) ? out.paths : {}))
    for (const op of Object.values(isObject(item) ? item : {}))
      if (isObject(op) && op['x-body-optional'] === true) {
        delete op['x-body-optional'];
        if (isObject(op.requestBody)) op.requestBody.required = false;
      }
  for (const [holder, key] of schemaSlots(out)) {
    const h = holder[key];
    if (key === 'schema' && isObject(h) && h['x-required'] === true) {
      delete h['x-required'];
      holder.required = true;
    }
  }
  for (const s of Object.values(named)) if (isObject(s)) for (const [h, k] of children(s)) visit(h, k, false);
  for (const [holder, key] of schemaSlots(out)) visit(holder, key, 'in' in holder && 'name' in holder);
  return out;
}
