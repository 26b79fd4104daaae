/**
 * The webhooks as the OpenAPI document describes them (its `webhooks` section, OpenAPI 3.1): each
 * event's payload and the Standard Webhooks headers. The payloads are made by the worker
 * (processors/after-audit.ts), the inbound service (process.ts) and POST
 * /v1/settings/webhook/test; the signature by the worker's notify processor.
 */
import { type TSchema, Type } from 'typebox';
import { FindingCode, Grade, Outcome, Severity } from './schemas.js';

const FindingRef = Type.Object(
  { code: FindingCode, severity: Severity, subject: Type.String() },
  { title: 'WebhookFinding', description: 'A finding, by code, severity and subject' },
);

/** The body of every delivery: the event, when it happened and its data. */
function envelope<T extends TSchema>(event: string, data: T, description: string) {
  const name = event
    .split(/[._]/)
    .map((w) => w.charAt(0).toUpperCase() + w.slice(1))
    .join('');
  return Type.Object(
    {
      id: Type.String({
        format: 'uuid',
        description: 'The delivery: the same as the webhook-id header, the same on every retry (deduplicate on it)',
      }),
      event: Type.Literal(event),
      createdAt: Type.String({ format: 'date-time', description: 'When the event happened' }),
      data,
    },
    { title: `${name}Event`, description },
  );
}

const AuthResult = Type.String({ description: 'pass, fail, softfail, neutral, none, temperror, permerror or policy' });

export const WEBHOOK_EVENTS = {
  'audit.completed': envelope(
    'audit.completed',
    Type.Object({
      auditId: Type.String({ format: 'uuid' }),
      domain: Type.String(),
      source: Type.String({ description: 'api or nightly' }),
      reportId: Type.String({ format: 'uuid' }),
      outcome: Outcome,
      score: Type.Union([Type.Integer({ minimum: 0, maximum: 100 }), Type.Null()]),
      grade: Type.Union([Grade, Type.Null()]),
      findings: Type.Integer({ description: 'How many findings the report has' }),
    }),
    'An audit ended with a report (each audit, whatever it found)',
  ),
  'domain.changed': envelope(
    'domain.changed',
    Type.Object({
      domain: Type.String(),
      reportId: Type.String({ format: 'uuid' }),
      previousReportId: Type.String({ format: 'uuid' }),
      gradeFrom: Grade,
      gradeTo: Grade,
      scoreChange: Type.Integer(),
      regressed: Type.Boolean(),
      added: Type.Array(FindingRef),
      resolved: Type.Array(FindingRef),
    }),
    'An audit found something different from the previous conclusive report (findings, severities, score or grade); never for an inconclusive one',
  ),
  'message.received': envelope(
    'message.received',
    Type.Object({
      messageTestId: Type.String({ format: 'uuid' }),
      domain: Type.String(),
      receivedAt: Type.String({ format: 'date-time' }),
      from: Type.Array(Type.String(), {
        description:
          'The addresses of the From header: usually one, none when it has none, several when it names several',
      }),
      spf: AuthResult,
      dkim: Type.Array(Type.Object({ domain: Type.String(), selector: Type.String(), result: AuthResult })),
      dmarc: AuthResult,
      arc: AuthResult,
      findings: Type.Array(FindingRef),
      selectorsAdded: Type.Array(Type.String()),
    }),
    "A test message sent to one of the domain's test addresses was received and analysed",
  ),
  'webhook.test': envelope(
    'webhook.test',
    Type.Object({ message: Type.String() }),
    'Sent on request by POST /v1/settings/webhook/test',
  ),
};

const header = (name: string, description: string, schema: Record<string, unknown>, required = true) => ({
  name,
  in: 'header',
  required,
  description,
  schema,
});

/** The headers of every delivery (Standard Webhooks, https://www.standardwebhooks.com). */
const HEADERS = [
  header('webhook-id', 'The delivery id, the same on every retry: deduplicate on it', {
    type: 'string',
    format: 'uuid',
  }),
  header('webhook-timestamp', 'Unix seconds of this attempt; reject one more than five minutes off (replays)', {
    type: 'string',
    pattern: '^[0-9]+$',
  }),
  header(
    'webhook-signature',
    'Space-separated `v1,<base64>` signatures: HMAC-SHA256 of `<webhook-id>.<webhook-timestamp>.<body>` keyed with the bytes of the base64 after `whsec_` in the secret. During a rotation there are two, one per secret: accept the delivery when any matches',
    { type: 'string', pattern: '^v1,[A-Za-z0-9+/=]+( v1,[A-Za-z0-9+/=]+)*$' },
  ),
  header('mailaudit-event', 'The event, as in the body', {
    type: 'string',
    enum: Object.keys(WEBHOOK_EVENTS),
  }),
  header('content-type', 'The body is JSON', { type: 'string', enum: ['application/json'] }),
];

/** The `webhooks` section: one POST per event to the tenant's webhook URL. */
export function webhooksSection(): Record<string, unknown> {
  return Object.fromEntries(
    Object.entries(WEBHOOK_EVENTS).map(([event, schema]) => [
      event,
      {
        post: {
          summary: (schema as { description?: string }).description,
          description:
            "POSTed to the tenant's `webhookUrl` (PUT /v1/settings), signed as Standard Webhooks prescribe, so that any of its libraries verifies it. Only addresses the private-address guard allows; no redirects followed; 10 s per attempt; retried with backoff until a 2xx; logged in GET /v1/webhooks/deliveries.",
          tags: ['webhooks'],
          parameters: HEADERS,
          requestBody: { required: true, content: { 'application/json': { schema } } },
          responses: {
            '2XX': { description: 'Delivered; the body of the answer is not read' },
            default: { description: 'Not delivered: the delivery is retried with backoff' },
          },
        },
      },
    ]),
  );
}
