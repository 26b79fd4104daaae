/**
 * The tenant's nightly settings (hour, time zone, window, webhook), running a nightly cycle now,
 * and what the nights produced: runs, changes per domain, emails, webhook deliveries.
 */
import { randomBytes } from 'node:crypto';
import type { TypeBoxTypeProvider } from '@fastify/type-provider-typebox';
import { guardAddress } from '@mailaudit/engine';
import { scheduleNightly } from '@mailaudit/queue';
import {
  getSettings,
  listChanges,
  listDeliveries,
  listEmails,
  listNightlyRuns,
  type TenantSettings,
  updateSettings,
} from '@mailaudit/store';
import type { FastifyPluginAsync } from 'fastify';
import { Type } from 'typebox';
import type { ApiContext } from '../context.js';
import { errors } from '../errors.js';
import { DomainParams, ErrorBody, errorResponses, PageQuery, StoredDiff } from '../schemas.js';
import { domainFrom } from './domain-param.js';
import { pageSize } from './paging.js';

const SettingsView = Type.Object({
  nightlyHour: Type.Integer({ minimum: 0, maximum: 23 }),
  timezone: Type.String(),
  nightlyWindowMinutes: Type.Integer(),
  summarySkipUnchanged: Type.Boolean(),
  webhookUrl: Type.Union([Type.String(), Type.Null()]),
  webhookSecretSet: Type.Boolean(),
  webhookSecret: Type.Optional(
    Type.String({ description: 'Shown once, when a webhook URL is first set or rotateWebhookSecret is true' }),
  ),
});

const SettingsBody = Type.Object(
  {
    nightlyHour: Type.Optional(
      Type.Integer({
        minimum: 0,
        maximum: 23,
        description: "Hour of the nightly audits, in the tenant's time zone (default 3)",
      }),
    ),
    timezone: Type.Optional(
      Type.String({ minLength: 1, maxLength: 64, description: 'IANA time zone, e.g. Europe/Paris (default UTC)' }),
    ),
    nightlyWindowMinutes: Type.Optional(
      Type.Integer({ minimum: 0, maximum: 720, description: 'Audits are spread over this many minutes (default 60)' }),
    ),
    summarySkipUnchanged: Type.Optional(Type.Boolean({ description: 'Send no summary when nothing changed' })),
    webhookUrl: Type.Optional(
      Type.Union([Type.String({ maxLength: 2000 }), Type.Null()], {
        description: 'http(s) URL receiving audit.completed and domain.changed; null removes it',
      }),
    ),
    rotateWebhookSecret: Type.Optional(Type.Boolean()),
  },
  { additionalProperties: false },
);

function view(s: TenantSettings, newSecret?: string) {
  return {
    nightlyHour: s.nightlyHour,
    timezone: s.timezone,
    nightlyWindowMinutes: s.nightlyWindowMinutes,
    summarySkipUnchanged: s.summarySkipUnchanged,
    webhookUrl: s.webhookUrl,
    webhookSecretSet: !!s.webhookSecret,
    ...(newSecret ? { webhookSecret: newSecret } : {}),
  };
}

function validTimeZone(tz: string): boolean {
  try {
    new Intl.DateTimeFormat('en', { timeZone: tz });
    return true;
  } catch {
    return false;
  }
}

function checkWebhookUrl(raw: string, allowPrivateTargets: boolean): string {
  let url: URL;
  try {
    url = new URL(raw);
  } catch {
    throw errors.badRequest('webhookUrl: not a URL');
  }
  if (url.protocol !== 'https:' && url.protocol !== 'http:') throw errors.badRequest('webhookUrl: only http and https');
  if (url.username || url.password)
    throw errors.badRequest('webhookUrl: no credentials in the URL; verify the signature instead');
  // A literal address is checked now; a name is checked on every delivery, on the address it resolves to.
  const host = url.hostname.replace(/^\[|\]$/g, '');
  try {
    if (/^[\d.]+$|:/.test(host)) guardAddress(host, allowPrivateTargets);
  } catch (err) {
    throw errors.badRequest(`webhookUrl: ${(err as Error).message}`);
  }
  return url.toString();
}

export function nightlyRoutes(ctx: ApiContext): FastifyPluginAsync {
  return async (fastify) => {
    const app = fastify.withTypeProvider<TypeBoxTypeProvider>();
    const tenant = (req: { auth?: { tenantId: string } }) => (req.auth as { tenantId: string }).tenantId;

    app.get(
      '/settings',
      {
        config: { scope: 'read' },
        schema: { summary: "The tenant's nightly settings", response: { 200: SettingsView, ...errorResponses } },
      },
      async (req) => {
        const s = await getSettings(ctx.sql, tenant(req));
        if (!s) throw errors.notFound('tenant');
        return view(s);
      },
    );

    app.put(
      '/settings',
      {
        config: { scope: 'admin' },
        schema: {
          summary: 'Change the nightly settings',
          body: SettingsBody,
          response: { 200: SettingsView, ...errorResponses },
        },
      },
      async (req) => {
        const current = await getSettings(ctx.sql, tenant(req));
        if (!current) throw errors.notFound('tenant');
        const b = req.body;
        if (b.timezone !== undefined && !validTimeZone(b.timezone))
          throw errors.badRequest(`timezone: "${b.timezone}" is not an IANA time zone`);
        const webhookUrl =
          b.webhookUrl === undefined
            ? current.webhookUrl
            : b.webhookUrl === null
              ? null
              : checkWebhookUrl(b.webhookUrl, ctx.config.allowPrivateTargets);
        let secret = current.webhookSecret;
        let shown: string | undefined;
        if (webhookUrl && (!secret || b.rotateWebhookSecret)) {
          secret = `whsec_${randomBytes(24).toString('base64url')}`;
          shown = secret;
        }
        const updated = await updateSettings(ctx.sql, tenant(req), {
          nightlyHour: b.nightlyHour ?? current.nightlyHour,
          timezone: b.timezone ?? current.timezone,
          nightlyWindowMinutes: b.nightlyWindowMinutes ?? current.nightlyWindowMinutes,
          summarySkipUnchanged: b.summarySkipUnchanged ?? current.summarySkipUnchanged,
          webhookUrl,
          webhookSecret: webhookUrl ? secret : null,
        });
        if (!updated) throw errors.notFound('tenant');
        await scheduleNightly(ctx.tasks, updated).catch(() => {
          throw errors.unavailable(
            'the settings are saved, but the schedule could not be updated (queue unreachable); retry',
          );
        });
        return view(updated, shown);
      },
    );

    app.post(
      '/nightly/run',
      {
        config: { scope: 'admin' },
        schema: {
          summary: "Run the tenant's nightly cycle now",
          description:
            'Audits every domain registered with nightly on, then sends the summaries and webhooks, as the scheduled run does.',
          response: { 202: Type.Object({ queued: Type.Literal(true) }), 503: ErrorBody, ...errorResponses },
        },
      },
      async (req, reply) => {
        await ctx.tasks
          .add(
            'nightly',
            { kind: 'nightly', tenantId: tenant(req), trigger: 'api', at: new Date().toISOString() },
            { removeOnComplete: 100 },
          )
          .catch(() => {
            throw errors.unavailable('the queue is unreachable; nothing was started, retry later');
          });
        return reply.code(202).send({ queued: true as const });
      },
    );

    app.get(
      '/nightly/runs',
      {
        config: { scope: 'read' },
        schema: {
          summary: 'Nightly runs, newest first',
          querystring: PageQuery,
          response: {
            200: Type.Object({
              runs: Type.Array(
                Type.Object({
                  id: Type.String(),
                  night: Type.String(),
                  trigger: Type.String(),
                  status: Type.String(),
                  audits: Type.Integer(),
                  startedAt: Type.String(),
                  finishedAt: Type.Union([Type.String(), Type.Null()]),
                }),
              ),
            }),
            ...errorResponses,
          },
        },
      },
      async (req) => {
        const runs = await listNightlyRuns(ctx.sql, tenant(req), pageSize(req.query.limit));
        return {
          runs: runs.map((r) => ({
            id: r.id,
            night: r.runKey.slice(0, 10),
            trigger: r.trigger,
            status: r.status,
            audits: r.audits,
            startedAt: r.startedAt.toISOString(),
            finishedAt: r.finishedAt?.toISOString() ?? null,
          })),
        };
      },
    );

    app.get(
      '/domains/:domain/changes',
      {
        config: { scope: 'read' },
        schema: {
          summary: "What changed at each of a domain's audits, newest first",
          params: DomainParams,
          querystring: PageQuery,
          response: {
            200: Type.Object({
              changes: Type.Array(
                Type.Object({
                  reportId: Type.String(),
                  previousReportId: Type.Union([Type.String(), Type.Null()]),
                  nightlyRunId: Type.Union([Type.String(), Type.Null()]),
                  changed: Type.Boolean(),
                  regressed: Type.Boolean(),
                  diff: StoredDiff,
                  createdAt: Type.String(),
                }),
              ),
            }),
            ...errorResponses,
          },
        },
      },
      async (req) => {
        const rows = await listChanges(ctx.sql, tenant(req), domainFrom(req.params.domain), pageSize(req.query.limit));
        return {
          changes: rows.map((c) => ({
            reportId: c.reportId,
            previousReportId: c.previousReportId,
            nightlyRunId: c.nightlyRunId,
            changed: c.changed,
            regressed: c.regressed,
            diff: c.diff,
            createdAt: c.createdAt.toISOString(),
          })),
        };
      },
    );

    app.get(
      '/webhooks/deliveries',
      {
        config: { scope: 'read' },
        schema: {
          summary: 'Webhook deliveries, newest first (the delivery log)',
          querystring: PageQuery,
          response: {
            200: Type.Object({
              deliveries: Type.Array(
                Type.Object({
                  id: Type.String(),
                  event: Type.String(),
                  url: Type.String(),
                  status: Type.String(),
                  attempts: Type.Integer(),
                  responseStatus: Type.Union([Type.Integer(), Type.Null()]),
                  lastError: Type.Union([Type.String(), Type.Null()]),
                  createdAt: Type.String(),
                  deliveredAt: Type.Union([Type.String(), Type.Null()]),
                }),
              ),
            }),
            ...errorResponses,
          },
        },
      },
      async (req) => {
        const rows = await listDeliveries(ctx.sql, tenant(req), pageSize(req.query.limit));
        return {
          deliveries: rows.map((d) => ({
            id: d.id,
            event: d.event,
            url: d.url,
            status: d.status,
            attempts: d.attempts,
            responseStatus: d.responseStatus,
            lastError: d.lastError,
            createdAt: d.createdAt.toISOString(),
            deliveredAt: d.deliveredAt?.toISOString() ?? null,
          })),
        };
      },
    );

    app.get(
      '/emails',
      {
        config: { scope: 'read' },
        schema: {
          summary: 'Summary and alert emails, newest first, with their sending status',
          querystring: PageQuery,
          response: {
            200: Type.Object({
              emails: Type.Array(
                Type.Object({
                  id: Type.String(),
                  kind: Type.String(),
                  recipients: Type.Array(Type.String()),
                  subject: Type.String(),
                  status: Type.String(),
                  attempts: Type.Integer(),
                  lastError: Type.Union([Type.String(), Type.Null()]),
                  createdAt: Type.String(),
                  sentAt: Type.Union([Type.String(), Type.Null()]),
                }),
              ),
            }),
            ...errorResponses,
          },
        },
      },
      async (req) => {
        const rows = await listEmails(ctx.sql, tenant(req), pageSize(req.query.limit));
        return {
          emails: rows.map((e) => ({
            id: e.id,
            kind: e.kind,
            recipients: e.recipients,
            subject: e.subject,
            status: e.status,
            attempts: e.attempts,
            lastError: e.lastError,
            createdAt: e.createdAt.toISOString(),
            sentAt: e.sentAt?.toISOString() ?? null,
          })),
        };
      },
    );
  };
}
