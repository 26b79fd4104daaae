/**
 * The API's errors: one class, a code and a status each, turned into `{"error": {"code", "message"}}`
 * by the error handler in app.ts. Anything else becomes a 500 whose details stay in the log.
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
  invalidDomain: (message: string) => new AppError(400, 'invalid_domain', message),
  unauthorized: (message = 'a valid API key is required: Authorization: Bearer <key>') =>
    new AppError(401, 'unauthorized', message, { 'www-authenticate': 'Bearer' }),
  forbidden: (scope: string) => new AppError(403, 'forbidden', `this API key lacks the "${scope}" scope`),
  notFound: (what: string) => new AppError(404, 'not_found', `${what} not found`),
  conflict: (message: string) => new AppError(409, 'conflict', message),
  unavailable: (message: string) => new AppError(503, 'unavailable', message, { 'retry-after': '5' }),
};
