/**
 * The API's errors, from one registry (STYLE.md 6): one class with a code and a status, and a
 * factory for each error a route or plugin may answer. plugins/errors.ts turns them into
 * `{"error": {"code", "message"}}`; anything else becomes a 500 whose details stay in the log.
 */
import { STATUS_CODES } from 'node:http';

export class AppError extends Error {
  constructor(
    readonly statusCode: number,
    readonly code: string,
    message: string,
    readonly headers: Record<string, string> = {},
    /** For a bad field: where it is (a JSON pointer into the request) and the values it may take. */
    readonly details: { field?: string; allowed?: readonly (string | number | boolean | null)[] } = {},
  ) {
    super(message);
  }
}

export const errors = {
  badRequest: (message: string) => new AppError(400, 'bad_request', message),
  /** The request does not match the route's schema (fastify's validation). */
  validation: (message: string) => new AppError(400, 'validation_failed', message),
  /** One field of the request is wrong: `field` is a JSON pointer such as `/query/grade` or `/body/domains/3/domain`. */
  invalidField: (field: string, message: string, allowed?: readonly (string | number | boolean | null)[]) =>
    new AppError(400, 'validation_failed', `${field}: ${message}`, {}, { field, ...(allowed ? { allowed } : {}) }),
  /** A name that is not a domain; `field` is where it is (a JSON pointer such as `/path/domain`). */
  invalidDomain: (field: string, message: string) =>
    new AppError(400, 'invalid_domain', `${field}: ${message}`, {}, { field }),
  badCursor: () =>
    new AppError(400, 'validation_failed', '/query/cursor: not a cursor this API gave', {}, { field: '/query/cursor' }),
  /** Another 4xx of fastify's own (a malformed body, say), with its status. */
  refused: (statusCode: number, message: string) => new AppError(statusCode, 'bad_request', message),
  unauthorized: (message = 'a valid API key is required: Authorization: Bearer <key>') =>
    new AppError(401, 'unauthorized', message, { 'www-authenticate': 'Bearer' }),
  forbidden: (scope: string) => new AppError(403, 'forbidden', `this API key lacks the "${scope}" scope`),
  notFound: (what: string) => new AppError(404, 'not_found', `${what} not found`),
  noRoute: (method: string, path: string) => new AppError(404, 'not_found', `no route ${method} ${path}`),
  conflict: (message: string) => new AppError(409, 'conflict', message),
  /** A tenant's logo URL that could not be fetched, or is not an image we take. */
  logoUnavailable: (why: string) =>
    new AppError(422, 'logo_unavailable', `/body/logoUrl: ${why}`, {}, { field: '/body/logoUrl' }),
  uriTooLong: (message: string) => new AppError(414, 'uri_too_long', message),
  payloadTooLarge: (message: string) => new AppError(413, 'payload_too_large', message),
  unsupportedMediaType: (message: string) => new AppError(415, 'unsupported_media_type', message),
  rateLimited: (max: number, retryInMs: number) =>
    new AppError(
      429,
      'rate_limited',
      `rate limit of ${max} requests a minute reached; retry in ${Math.ceil(retryInMs / 1000)} s`,
      { 'retry-after': String(Math.max(1, Math.ceil(retryInMs / 1000))) },
    ),
  /** A tenant's queued and running audits would go beyond TENANT_MAX_QUEUED_AUDITS. */
  quotaExceeded: (max: number, backlog: number) =>
    new AppError(
      429,
      'quota_exceeded',
      `this tenant has ${backlog} audits queued or running; at most ${max} at once. Retry when some are done`,
      { 'retry-after': '60' },
    ),
  /** Too many failed authentications from one client address (AUTH_FAILURES_PER_MINUTE). */
  tooManyAuthFailures: (retryInS: number) =>
    new AppError(429, 'rate_limited', `too many failed authentications from this address; retry in ${retryInS} s`, {
      'retry-after': String(retryInS),
    }),
  unavailable: (message: string) => new AppError(503, 'unavailable', message, { 'retry-after': '5' }),
  /** A feature this service was not configured for (test messages without INBOUND_DOMAIN). */
  notConfigured: (message: string) => new AppError(501, 'not_configured', message),
  internal: () => new AppError(500, 'internal', 'internal error; it has been logged'),
};

/**
 * The registry's error for what fastify itself throws on a bad request (a body too large, a
 * content type it cannot parse, malformed JSON, a failed validation); undefined for anything else.
 */
export function fromFramework(
  err: Error & { statusCode?: number; code?: string; validation?: unknown; validationContext?: string },
): AppError | undefined {
  if (Array.isArray(err.validation))
    return describeValidation(err.validation as ValidationIssue[], err.validationContext ?? 'body');
  const status = err.statusCode ?? 500;
  if (err.code === 'FST_ERR_MAX_PARAM_LENGTH')
    return errors.uriTooLong('a path segment is longer than any name or id this API takes');
  if (err.code === 'FST_ERR_BAD_URL') return errors.badRequest('the path is not a valid URL (bad percent-encoding)');
  if (status === 413) return errors.payloadTooLarge(err.message);
  if (status === 414) return errors.uriTooLong(err.message);
  if (status === 415) return errors.unsupportedMediaType(err.message);
  if (status >= 400 && status < 500) return errors.refused(status, err.message);
  return undefined;
}

/**
 * What Node's HTTP parser refuses before fastify sees a request (fastify's `clientErrorHandler`),
 * written straight to the socket in the one error shape: the request line and headers over Node's
 * limit (16 KiB: a URL that long, or headers) 431, a request not sent in time 408, a message that
 * is not HTTP 400. (fastify's own default answers these in a shape of its own.)
 */
export function clientError(err: Error & { code?: string }, socket: import('node:stream').Duplex): void {
  // A reset connection has nobody to answer (https://nodejs.org/api/http.html#event-clienterror).
  if (err.code === 'ECONNRESET' || socket.destroyed) return;
  const [status, code, message] =
    err.code === 'HPE_HEADER_OVERFLOW'
      ? [431, 'headers_too_large', 'the request line and headers are larger than 16 KiB']
      : err.code === 'ERR_HTTP_REQUEST_TIMEOUT'
        ? [408, 'request_timeout', 'the request was not received in time']
        : [400, 'bad_request', 'not a valid HTTP request'];
  const body = JSON.stringify({ error: { code, message } });
  if (socket.writable) {
    socket.write(
      `HTTP/1.1 ${status} ${STATUS_CODES[status]}\r\nContent-Type: application/json; charset=utf-8\r\nContent-Length: ${Buffer.byteLength(body)}\r\nConnection: close\r\n\r\n${body}`,
    );
  }
  socket.destroy(err);
}

/** What the schema validator (ajv, verbose) reports for one failed rule. */
export interface ValidationIssue {
  keyword: string;
  instancePath: string;
  params: Record<string, unknown>;
  parentSchema?: { description?: string; title?: string; properties?: Record<string, unknown>; anyOf?: unknown[] };
}

const CONTEXT: Record<string, string> = { body: 'body', querystring: 'query', params: 'path', headers: 'headers' };

const FORMATS: Record<string, string> = {
  'date-time': 'a date-time such as 2026-12-01T03:00:00Z (RFC 3339)',
  uuid: 'a UUID such as 8f9c0b7e-3a41-4d2a-9a57-0c1de5f0a6b2',
  uri: 'an absolute URL',
  email: 'an email address',
};

function plural(n: unknown, one: string): string {
  return `${n} ${one}${n === 1 ? '' : 's'}`;
}

/**
 * A request that fails its route's schema, in words: the field as a JSON pointer into the request
 * (`/body/domains/3/recipients/0`, `/query/limit`), what was expected and, for a choice, the values
 * allowed. Of several issues (a union's branches), the one deepest into the request is told.
 */
export function describeValidation(issues: ValidationIssue[], context: string): AppError {
  const where = `/${CONTEXT[context] ?? context}`;
  const pick =
    [...issues]
      .filter((i) => i.keyword !== 'anyOf' && i.keyword !== 'oneOf')
      .sort((a, b) => b.instancePath.split('/').length - a.instancePath.split('/').length)[0] ?? issues[0];
  if (!pick) return errors.validation('the request does not match its schema');
  const p = pick.params;
  const field = `${where}${pick.instancePath}`;
  const said = pick.parentSchema?.description ? ` (${pick.parentSchema.description})` : '';
  // Literals of a union at the same place: the values allowed.
  const consts = issues
    .filter((i) => i.keyword === 'const' && i.instancePath === pick.instancePath)
    .map((i) => i.params.allowedValue as string);
  switch (pick.keyword) {
    case 'required':
      return errors.invalidField(`${field}/${p.missingProperty}`, 'is required');
    case 'additionalProperties': {
      const known = Object.keys(pick.parentSchema?.properties ?? {});
      return errors.invalidField(
        `${field}/${p.additionalProperty}`,
        `is not a field of this request${known.length ? `; the fields are ${known.join(', ')}` : ''}`,
        known.length ? known : undefined,
      );
    }
    case 'enum': {
      const allowed = p.allowedValues as string[];
      return errors.invalidField(field, `expected one of ${allowed.join(', ')}`, allowed);
    }
    case 'const':
      return errors.invalidField(field, `expected one of ${consts.join(', ')}`, consts);
    case 'type':
      return errors.invalidField(field, `expected ${article(String(p.type))}${said}`);
    case 'format':
      return errors.invalidField(field, `expected ${FORMATS[String(p.format)] ?? `a ${p.format}`}`);
    case 'pattern':
      return errors.invalidField(field, `is not in the expected form${said || ''}`);
    case 'minLength':
      return errors.invalidField(field, `expected at least ${plural(p.limit, 'character')}`);
    case 'maxLength':
      return errors.invalidField(field, `expected at most ${plural(p.limit, 'character')}`);
    case 'minItems':
      return errors.invalidField(field, `expected at least ${plural(p.limit, 'item')}`);
    case 'maxItems':
      return errors.invalidField(field, `expected at most ${plural(p.limit, 'item')}`);
    case 'minimum':
      return errors.invalidField(field, `expected a number of at least ${p.limit}`);
    case 'maximum':
      return errors.invalidField(field, `expected a number of at most ${p.limit}`);
    case 'uniqueItems':
      return errors.invalidField(field, 'expected items without repeats');
    default:
      return errors.invalidField(field, `does not match the schema${said}`);
  }
}

function article(type: string): string {
  if (type === 'integer') return 'a whole number';
  if (type === 'object') return 'an object';
  if (type === 'array') return 'an array';
  if (type === 'null') return 'null';
  return `a ${type}`;
}
