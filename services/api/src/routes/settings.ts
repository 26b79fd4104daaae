/**
 * The tenant's settings: the hour, time zone and window of its nightly audits, whether to skip
 * unchanged summaries, its webhook URL (GET and PUT /v1/settings).
 */
import { randomBytes } from 'node:crypto';
import type { TypeBoxTypeProvider } from '@fastify/type-provider-typebox';
import { guardAddress } from '@mailaudit/engine';
import { scheduleNightly } from '@mailaudit/queue';
import { getSettings, type TenantSettings, updateSettings } from '@mailaudit/store';
import type { FastifyPluginAsync } from 'fastify';
import { Type } from 'typebox';
import type { ApiContext } from '../context.js';
import { errors } from '../errors.js';
import { errorResponses } from '../schemas.js';

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

export function settingsRoutes(ctx: ApiContext): FastifyPluginAsync {
  return async (fastify) => {
    const app = fastify.withTypeProvider<TypeBoxTypeProvider>();

    app.get(
      '/settings',
      {
        config: { scope: 'read' },
        schema: { summary: "The tenant's nightly settings", response: { 200: SettingsView, ...errorResponses } },
      },
      async (req) => {
        const s = await getSettings(ctx.sql, req.tenantId);
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
        const current = await getSettings(ctx.sql, req.tenantId);
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
        const updated = await updateSettings(ctx.sql, req.tenantId, {
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
  };
}
