/**
 * The tenant's settings: the hour, time zone and window of its nightly audits, whether to skip
 * unchanged summaries, its webhook URL (GET and PUT /v1/settings); the webhook secret's rotation
 * and a test delivery (POST /v1/settings/webhook/rotate, /v1/settings/webhook/test).
 */
import { randomBytes } from 'node:crypto';
import type { TypeBoxTypeProvider } from '@fastify/type-provider-typebox';
import { DEFAULT_LOCALE, isLocale } from '@mailaudit/catalog';
import { guardAddress } from '@mailaudit/engine';
import { NOTIFY_JOB_OPTIONS, scheduleNightly } from '@mailaudit/queue';
import {
  createDelivery,
  getSettings,
  rotateWebhookSecret,
  type TenantSettings,
  updateSettings,
} from '@mailaudit/store';
import type { FastifyPluginAsync } from 'fastify';
import { Type } from 'typebox';
import type { ApiContext } from '../context.js';
import { errors } from '../errors.js';
import { BODY, errorsOf, KEYED, ok } from '../openapi.js';
import { LocaleSchema } from '../schemas.js';

const SettingsView = Type.Object(
  {
    nightlyHour: Type.Integer({ minimum: 0, maximum: 23 }),
    timezone: Type.String(),
    nightlyWindowMinutes: Type.Integer(),
    summarySkipUnchanged: Type.Boolean(),
    webhookUrl: Type.Union([Type.String(), Type.Null()]),
    webhookSecretSet: Type.Boolean(),
    locale: LocaleSchema,
    webhookSecret: Type.Optional(
      Type.String({
        description:
          'Shown once, when a webhook URL is first set or the secret rotated: `whsec_` and the base64 of the signing key (Standard Webhooks)',
      }),
    ),
    webhookPreviousSecretValidUntil: Type.Union([Type.String({ format: 'date-time' }), Type.Null()], {
      description: 'Until then deliveries carry a second signature, with the secret rotated out',
    }),
  },
  { title: 'Settings' },
);

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
    locale: Type.Optional(
      Type.Union([Type.Literal('en'), Type.Literal('tr')], {
        description: "Default language of the tenant's pages and emails (a recipient's own language wins)",
      }),
    ),
  },
  {
    additionalProperties: false,
    title: 'SettingsChange',
    description: 'A field left out keeps its value',
    examples: [
      { nightlyHour: 2, timezone: 'Europe/Istanbul', webhookUrl: 'https://panel.example.com/hooks/mailaudit' },
    ],
  },
);

function view(s: TenantSettings, newSecret?: string) {
  return {
    nightlyHour: s.nightlyHour,
    timezone: s.timezone,
    nightlyWindowMinutes: s.nightlyWindowMinutes,
    summarySkipUnchanged: s.summarySkipUnchanged,
    webhookUrl: s.webhookUrl,
    webhookSecretSet: !!s.webhookSecret,
    webhookPreviousSecretValidUntil:
      s.webhookPreviousSecret && s.webhookPreviousUntil && s.webhookPreviousUntil > new Date()
        ? s.webhookPreviousUntil.toISOString()
        : null,
    locale: isLocale(s.locale) ? s.locale : DEFAULT_LOCALE,
    ...(newSecret ? { webhookSecret: newSecret } : {}),
  };
}

/** A Standard Webhooks secret: `whsec_` and the base64 of 24 random bytes (the HMAC key). */
const newSecret = () => `whsec_${randomBytes(24).toString('base64')}`;

/** How long a rotated-out secret keeps signing. @default 86400 (a day) */
const RotateBody = Type.Object(
  {
    previousValidForSeconds: Type.Optional(
      Type.Integer({
        minimum: 0,
        maximum: 604_800,
        description:
          'How long deliveries keep a second signature with the secret rotated out, in seconds (0 to 7 days; default 86400). 0: the old secret stops at once',
      }),
    ),
  },
  { additionalProperties: false, title: 'RotateRequest', description: 'Optional: no body means the defaults' },
);

function validTimeZone(tz: string): boolean {
  try {
    new Intl.DateTimeFormat('en', { timeZone: tz });
    return true;
  } catch {
    return false;
  }
}

const WEBHOOK_URL = '/body/webhookUrl';

function checkWebhookUrl(raw: string, allowPrivateTargets: boolean): string {
  let url: URL;
  try {
    url = new URL(raw);
  } catch {
    throw errors.invalidField(WEBHOOK_URL, 'expected an absolute http(s) URL');
  }
  if (url.protocol !== 'https:' && url.protocol !== 'http:')
    throw errors.invalidField(WEBHOOK_URL, 'only http and https');
  if (url.username || url.password)
    throw errors.invalidField(WEBHOOK_URL, 'no credentials in the URL; verify the signature instead');
  // A literal address is checked now; a name is checked on every delivery, on the address it resolves to.
  const host = url.hostname.replace(/^\[|\]$/g, '');
  try {
    if (/^[\d.]+$|:/.test(host)) guardAddress(host, allowPrivateTargets);
  } catch (err) {
    throw errors.invalidField(WEBHOOK_URL, (err as Error).message);
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
        schema: {
          summary: "The tenant's nightly settings",
          tags: ['settings'],
          response: { 200: ok(SettingsView, 'The settings'), ...errorsOf(...KEYED) },
        },
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
          description:
            'A new webhook URL gets a signing secret, shown once in `webhookSecret`. 503 when the settings are saved but the schedule could not be updated: retry.',
          tags: ['settings'],
          body: SettingsBody,
          response: { 200: ok(SettingsView, 'The settings as saved'), ...errorsOf(...BODY, ...KEYED) },
        },
      },
      async (req) => {
        const current = await getSettings(ctx.sql, req.tenantId);
        if (!current) throw errors.notFound('tenant');
        const b = req.body;
        if (b.timezone !== undefined && !validTimeZone(b.timezone))
          throw errors.invalidField(
            '/body/timezone',
            `"${b.timezone}" is not an IANA time zone such as Europe/Istanbul`,
          );
        const webhookUrl =
          b.webhookUrl === undefined
            ? current.webhookUrl
            : b.webhookUrl === null
              ? null
              : checkWebhookUrl(b.webhookUrl, ctx.config.allowPrivateTargets);
        let secret = current.webhookSecret;
        let shown: string | undefined;
        if (webhookUrl && (!secret || b.rotateWebhookSecret)) {
          secret = newSecret();
          shown = secret;
        }
        const updated = await updateSettings(ctx.sql, req.tenantId, {
          nightlyHour: b.nightlyHour ?? current.nightlyHour,
          timezone: b.timezone ?? current.timezone,
          nightlyWindowMinutes: b.nightlyWindowMinutes ?? current.nightlyWindowMinutes,
          summarySkipUnchanged: b.summarySkipUnchanged ?? current.summarySkipUnchanged,
          webhookUrl,
          webhookSecret: webhookUrl ? secret : null,
          locale: b.locale ?? current.locale,
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
      '/settings/webhook/rotate',
      {
        config: { scope: 'admin' },
        schema: {
          summary: 'Rotate the webhook signing secret',
          description:
            'Makes a new secret, shown once in the answer. The secret it replaces keeps signing every delivery (a second `v1,` signature in `webhook-signature`) for `previousValidForSeconds`, so that receivers can switch without losing a webhook.',
          tags: ['settings', 'webhooks'],
          body: RotateBody,
          'x-body-optional': true,
          response: {
            200: ok(SettingsView, 'The settings, with the new secret in `webhookSecret` (shown this once)'),
            ...errorsOf(...BODY, 409, ...KEYED),
          },
        },
        // No body is an empty one: every field has its default.
        preValidation: async (req) => {
          if (req.body === undefined || req.body === null) req.body = {};
        },
      },
      async (req) => {
        const current = await getSettings(ctx.sql, req.tenantId);
        if (!current) throw errors.notFound('tenant');
        if (!current.webhookUrl) throw errors.conflict('no webhook URL is set: PUT /v1/settings {"webhookUrl"} first');
        const secret = newSecret();
        const updated = await rotateWebhookSecret(
          ctx.sql,
          req.tenantId,
          secret,
          req.body.previousValidForSeconds ?? 86_400,
        );
        if (!updated) throw errors.notFound('tenant');
        return view(updated, secret);
      },
    );

    app.post(
      '/settings/webhook/test',
      {
        config: { scope: 'admin' },
        schema: {
          summary: 'Send a test webhook',
          description:
            'Records a `webhook.test` delivery to the webhook URL and queues it: it is signed and retried like any other, and shows in GET /v1/webhooks/deliveries.',
          tags: ['settings', 'webhooks'],
          response: {
            202: ok(
              Type.Object(
                { deliveryId: Type.String({ format: 'uuid' }), event: Type.Literal('webhook.test') },
                { title: 'TestDelivery' },
              ),
              'The delivery is recorded and queued',
            ),
            ...errorsOf(...BODY, 409, ...KEYED),
          },
        },
      },
      async (req, reply) => {
        const settings = await getSettings(ctx.sql, req.tenantId);
        if (!settings) throw errors.notFound('tenant');
        if (!settings.webhookUrl) throw errors.conflict('no webhook URL is set: PUT /v1/settings {"webhookUrl"} first');
        const d = await createDelivery(ctx.sql, {
          tenantId: req.tenantId,
          runId: null,
          event: 'webhook.test',
          url: settings.webhookUrl,
          payload: {
            event: 'webhook.test',
            createdAt: new Date().toISOString(),
            data: { message: 'a test delivery, sent on request' },
          },
        });
        // Recorded first: a delivery not queued stays pending in the log, and the answer says so.
        await ctx.tasks.add('webhook', { kind: 'webhook', deliveryId: d.id }, NOTIFY_JOB_OPTIONS).catch(() => {
          throw errors.unavailable('the delivery is recorded but could not be queued (queue unreachable); retry');
        });
        return reply.code(202).send({ deliveryId: d.id, event: 'webhook.test' as const });
      },
    );
  };
}
