/**
 * The API's errors, from one registry (STYLE.md 6): one class with a code and a status, and a
 * factory for each error a route or plugin may answer. plugins/errors.ts turns them into
 * `{"error": {"code", "message"}}`; anything else becomes a 500 whose details stay in the log.
 */
export class AppError extends Error {
  constructor(
    readonly statusCode: number,
    readonly code: string,
    message: string,
    readonly headers: Record<string, string> = {},
  ) {
    super(message);
  }
}

export const errors = {
  badRequest: (message: string) => new AppError(400, 'bad_request', message),
  /** The request does not match the route's schema (fastify's validation). */
  validation: (message: string) => new AppError(400, 'validation_failed', message),
  invalidDomain: (message: string) => new AppError(400, 'invalid_domain', message),
  badCursor: () => new AppError(400, 'bad_request', 'cursor: not a cursor this API gave'),
  /** Another 4xx of fastify's own (a malformed body, say), with its status. */
  refused: (statusCode: number, message: string) => new AppError(statusCode, 'bad_request', message),
  unauthorized: (message = 'a valid API key is required: Authorization: Bearer <key>') =>
    new AppError(401, 'unauthorized', message, { 'www-authenticate': 'Bearer' }),
  forbidden: (scope: string) => new AppError(403, 'forbidden', `this API key lacks the "${scope}" scope`),
  notFound: (what: string) => new AppError(404, 'not_found', `${what} not found`),
  noRoute: (method: string, path: string) => new AppError(404, 'not_found', `no route ${method} ${path}`),
  conflict: (message: string) => new AppError(409, 'conflict', message),
  payloadTooLarge: (message: string) => new AppError(413, 'payload_too_large', message),
  unsupportedMediaType: (message: string) => new AppError(415, 'unsupported_media_type', message),
  rateLimited: (max: number, retryInMs: number) =>
    new AppError(
      429,
      'rate_limited',
      `rate limit of ${max} requests a minute reached; retry in ${Math.ceil(retryInMs / 1000)} s`,
    ),
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
  err: Error & { statusCode?: number; validation?: unknown; validationContext?: string },
): AppError | undefined {
  if (err.validation) return errors.validation(`${err.validationContext ?? 'request'}: ${err.message}`);
  const status = err.statusCode ?? 500;
  if (status === 413) return errors.payloadTooLarge(err.message);
  if (status === 415) return errors.unsupportedMediaType(err.message);
  if (status >= 400 && status < 500) return errors.refused(status, err.message);
  return undefined;
}
