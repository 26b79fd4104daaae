/**
 * The fastify application: plugins for errors (one shape, one handler), docs (OpenAPI from the
 * routes' TypeBox schemas), auth (Bearer keys scoped to one tenant) and limits (per key, in Redis),
 * then one routes file per resource.
 */
import type { TypeBoxTypeProvider } from '@fastify/type-provider-typebox';
import type { Logger } from '@mailaudit/telemetry';
import Fastify, { type FastifyInstance, LogController } from 'fastify';
import type { ApiContext } from './context.js';
import { clientError, errors, fromFramework } from './errors.js';
import { strictFormats } from './formats.js';
import { accessLogPlugin } from './plugins/access-log.js';
import { authPlugin } from './plugins/auth.js';
import { docsPlugin } from './plugins/docs.js';
import { errorsPlugin } from './plugins/errors.js';
import { limitsPlugin } from './plugins/limits.js';
import { pagesPlugin } from './plugins/pages.js';
import { securityHeadersPlugin } from './plugins/security-headers.js';
import { auditRoutes } from './routes/audits.js';
import { brandingRoutes, brandLogoRoutes } from './routes/branding.js';
import { changeRoutes } from './routes/changes.js';
import { codeRoutes, schemaRoutes } from './routes/codes.js';
import { domainRoutes } from './routes/domains.js';
import { emailRoutes } from './routes/emails.js';
import { findingRoutes } from './routes/findings.js';
import { healthRoutes } from './routes/health.js';
import { messageTestRoutes } from './routes/message-tests.js';
import { metricsRoutes } from './routes/metrics.js';
import { nightlyRoutes } from './routes/nightly.js';
import { overviewLinkRoutes, overviewPageRoutes } from './routes/overview-page.js';
import { reportPageRoutes } from './routes/report-pages.js';
import { reportRoutes } from './routes/reports.js';
import { settingsRoutes } from './routes/settings.js';
import { unsubscribeRoutes } from './routes/unsubscribe.js';
import { webhookRoutes } from './routes/webhooks.js';

export type App = FastifyInstance<
  import('node:http').Server,
  import('node:http').IncomingMessage,
  import('node:http').ServerResponse,
  Logger,
  TypeBoxTypeProvider
>;

/** The resources under /v1, each in routes/<resource>.ts. */
const V1 = [
  auditRoutes,
  domainRoutes,
  findingRoutes,
  codeRoutes,
  schemaRoutes,
  reportRoutes,
  changeRoutes,
  settingsRoutes,
  nightlyRoutes,
  emailRoutes,
  webhookRoutes,
  messageTestRoutes,
  overviewLinkRoutes,
  brandingRoutes,
];

export async function buildApp(ctx: ApiContext): Promise<App> {
  const app = Fastify({
    loggerInstance: ctx.log,
    bodyLimit: ctx.config.bodyLimit,
    // plugins/access-log.ts logs each request instead, without the secrets of its URL.
    logController: new LogController({ disableRequestLogging: true }),
    // A slow body or a silent connection is not held for long: the whole request (headers and
    // body) within 15 s, a connection silent for 30 s closed, an idle keep-alive one after 5 s.
    requestTimeout: 15_000,
    connectionTimeout: 30_000,
    keepAliveTimeout: 5000,
    // Strict bodies: unknown fields and wrong types are errors, not silently dropped or coerced.
    // Formats as strict as Date and Postgres (formats.ts): what validates never fails as a 500 later.
    // verbose: validation errors carry their schema, so that they can be told in words (errors.ts).
    ajv: {
      customOptions: { removeAdditional: false, coerceTypes: false, allErrors: false, verbose: true },
      onCreate: strictFormats,
    } as { customOptions: Record<string, unknown> },
    // Path parameters take any domain name (253 characters, more when percent-encoded Unicode).
    routerOptions: { maxParamLength: 2048 },
    // The router's own refusals (a bad percent-encoding, a parameter too long) in the one error shape.
    frameworkErrors: (err, _req, res) => {
      const e = fromFramework(err) ?? errors.badRequest(err.message);
      const reply = res as unknown as import('fastify').FastifyReply;
      reply
        .code(e.statusCode)
        .headers(e.headers)
        .send({ error: { code: e.code, message: e.message, ...e.details } });
    },
    // What Node's HTTP parser refuses (headers over 16 KiB, a request not in time) in the one shape too.
    clientErrorHandler: clientError,
  }).withTypeProvider<TypeBoxTypeProvider>();

  // Headers too: a client that trickles them is cut off (node's default waits a minute).
  app.server.headersTimeout = 10_000;
  // Bodies are JSON (the unsubscribe page takes forms, with its own parser): a text/plain body is
  // refused as 415 like any other type, not read as a string that then fails validation as a 400.
  app.removeContentTypeParser('text/plain');
  await app.register(errorsPlugin);
  await app.register(securityHeadersPlugin);
  await app.register(accessLogPlugin);
  await app.register(docsPlugin, { ctx });
  await app.register(authPlugin, { ctx });
  await app.register(limitsPlugin, { ctx });
  await app.register(pagesPlugin);

  await app.register(healthRoutes(ctx));
  await app.register(metricsRoutes(ctx));
  await app.register(reportPageRoutes(ctx));
  await app.register(overviewPageRoutes(ctx));
  await app.register(unsubscribeRoutes(ctx));
  await app.register(brandLogoRoutes(ctx));
  for (const routes of V1) await app.register(routes(ctx), { prefix: '/v1' });
  return app;
}
