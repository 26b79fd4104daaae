/**
 * Sending: summary and alert emails through nodemailer over SMTP_URL, webhook deliveries signed
 * as Standard Webhooks prescribe. Each attempt is recorded; a failure is thrown so that BullMQ retries it with
 * backoff, and the last one marks the email or delivery failed.
 */
import { createHmac } from 'node:crypto';
import { GuardError, HttpError } from '@mailaudit/engine';
import {
  getDelivery,
  getEmail,
  getSettings,
  isOptedOut,
  recordDeliveryAttempt,
  recordEmailAttempt,
  skipEmail,
} from '@mailaudit/store';
import { type Job, UnrecoverableError } from 'bullmq';
import nodemailer from 'nodemailer';
import type { WorkerContext } from '../context.js';
import { senderOf } from './mail.js';

const isFinal = (job: Job) => job.attemptsMade + 1 >= (job.opts.attempts ?? 1);

export async function sendEmail(ctx: WorkerContext, job: Job, emailId: string): Promise<string> {
  const email = await getEmail(ctx.sql, emailId);
  if (!email) throw new UnrecoverableError(`no email ${emailId}`);
  if (email.status === 'sent' || email.status === 'skipped') return `already ${email.status}`;
  // Unsubscribed since it was recorded (a retry, a queue that waited): not sent after all.
  const still = [];
  for (const address of email.recipients)
    if (!(await isOptedOut(ctx.sql, email.tenantId, address))) still.push(address);
  if (still.length === 0) {
    await skipEmail(ctx.sql, emailId, 'the recipient unsubscribed');
    return 'skipped: unsubscribed';
  }
  if (!ctx.config.smtpUrl) {
    await recordEmailAttempt(ctx.sql, emailId, { ok: false, error: 'SMTP_URL is not set', final: true });
    throw new UnrecoverableError('SMTP_URL is not set: the email is recorded, not sent');
  }
  // The timeouts beside the URL, in the transport's options (a second argument would be message defaults).
  const transport = nodemailer.createTransport({
    url: ctx.config.smtpUrl,
    connectionTimeout: 10_000,
    greetingTimeout: 10_000,
    socketTimeout: 30_000,
  });
  try {
    await transport.sendMail({
      // The tenant's sender (branding), else MAIL_FROM under the tenant's brand name.
      from: await senderOf(ctx, email.tenantId),
      // Addresses as objects: nodemailer parses none of them again (a string would be read as an
      // address list), and the envelope it derives from them is the addresses stored.
      to: still.map((address) => ({ name: '', address })),
      subject: email.subject,
      text: email.textBody,
      html: email.htmlBody,
      headers: {
        // Our id of the email (for support); neutral, like everything a tenant's customers may see.
        'X-Email-Id': email.id,
        // RFC 8058: one click, a POST of List-Unsubscribe=One-Click to the HTTPS URL (RFC 2369 for the header).
        ...(email.listUnsubscribe
          ? { 'List-Unsubscribe': `<${email.listUnsubscribe}>`, 'List-Unsubscribe-Post': 'List-Unsubscribe=One-Click' }
          : {}),
      },
    });
    await recordEmailAttempt(ctx.sql, emailId, { ok: true });
    return 'sent';
  } catch (err) {
    await recordEmailAttempt(ctx.sql, emailId, { ok: false, error: (err as Error).message, final: isFinal(job) });
    throw err;
  } finally {
    transport.close();
  }
}

/**
 * The `webhook-signature` header of Standard Webhooks (https://www.standardwebhooks.com): for each
 * secret, `v1,` and the base64 HMAC-SHA256 of `<id>.<timestamp>.<body>`, keyed with the bytes the
 * secret's base64 (after `whsec_`) stands for; several are separated by spaces (a rotation).
 */
export function signWebhook(secrets: string[], id: string, timestamp: number, body: string): string {
  return secrets
    .map((secret) => {
      const key = Buffer.from(secret.replace(/^whsec_/, ''), 'base64');
      return `v1,${createHmac('sha256', key).update(`${id}.${timestamp}.${body}`).digest('base64')}`;
    })
    .join(' ');
}

/** The secrets that sign now: the current one, and a rotated-out one until its time is up. */
export function signingSecrets(
  s: { webhookSecret: string | null; webhookPreviousSecret: string | null; webhookPreviousUntil: Date | null },
  now: Date,
): string[] {
  const out = s.webhookSecret ? [s.webhookSecret] : [];
  if (s.webhookPreviousSecret && s.webhookPreviousUntil && s.webhookPreviousUntil > now)
    out.push(s.webhookPreviousSecret);
  return out;
}

export async function deliverWebhook(ctx: WorkerContext, job: Job, deliveryId: string): Promise<string> {
  const d = await getDelivery(ctx.sql, deliveryId);
  if (!d) throw new UnrecoverableError(`no delivery ${deliveryId}`);
  if (d.status === 'delivered') return 'already delivered';
  const settings = await getSettings(ctx.sql, d.tenantId);
  if (!settings?.webhookSecret) throw new UnrecoverableError('the tenant has no webhook secret');
  const body = JSON.stringify({ id: d.id, ...d.payload });
  const now = ctx.now();
  const timestamp = Math.floor(now.getTime() / 1000);
  try {
    // The engine's guarded HTTP client, the audits' (the worker's context makes one for both).
    const { status } = await ctx.http.request(
      {
        url: d.url,
        method: 'POST',
        headers: {
          'content-type': 'application/json',
          'user-agent': 'mailaudit-webhook',
          'mailaudit-event': d.event,
          // Standard Webhooks: the id is the delivery's, the same on every retry (receivers dedupe on it).
          'webhook-id': d.id,
          'webhook-timestamp': String(timestamp),
          'webhook-signature': signWebhook(signingSecrets(settings, now), d.id, timestamp, body),
        },
        body,
        timeoutMs: 10_000,
        maxBodyBytes: 0,
      },
      { dns: ctx.dns, allowPrivateTargets: ctx.config.allowPrivateTargets },
    );
    if (status < 200 || status >= 300) throw Object.assign(new Error(`HTTP ${status}`), { status });
    await recordDeliveryAttempt(ctx.sql, d.id, { ok: true, status, final: true });
    return `delivered (${status})`;
  } catch (err) {
    const e = err as Error & { status?: number };
    const refused = e instanceof GuardError || (e instanceof HttpError && e.code === 'bad_url');
    const final = isFinal(job) || refused;
    await recordDeliveryAttempt(ctx.sql, d.id, {
      ok: false,
      ...(e.status ? { status: e.status } : {}),
      error: e.message,
      final,
    });
    if (refused) throw new UnrecoverableError(e.message);
    throw err;
  }
}
