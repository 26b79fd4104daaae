/**
 * Links to one report that need no API key: the report id with an HMAC of it under a secret shared
 * by the API and the workers (REPORT_LINK_SECRET), so that summary emails can link to pages their
 * recipients can open, and nobody can open another report by changing the id.
 */
import { createHmac, timingSafeEqual } from 'node:crypto';

export function reportLinkToken(secret: string, reportId: string): string {
  return createHmac('sha256', secret).update(`report:${reportId}`).digest('base64url').slice(0, 32);
}

export function verifyReportLink(secret: string, reportId: string, token: string): boolean {
  const want = Buffer.from(reportLinkToken(secret, reportId));
  const got = Buffer.from(token);
  return want.length === got.length && timingSafeEqual(want, got);
}

/**
 * Links to a tenant's overview page that need no key and expire: the tenant id and the expiry time
 * (Unix seconds) with an HMAC of both under the same secret.
 */
export function overviewLinkToken(secret: string, tenantId: string, expires: number): string {
  return createHmac('sha256', secret).update(`overview:${tenantId}:${expires}`).digest('base64url').slice(0, 32);
}

/** `valid`, `expired` (a genuine link whose time has passed) or `invalid`. */
export function verifyOverviewLink(
  secret: string,
  tenantId: string,
  expires: number,
  token: string,
  now: Date,
): 'valid' | 'expired' | 'invalid' {
  const want = Buffer.from(overviewLinkToken(secret, tenantId, expires));
  const got = Buffer.from(token);
  if (want.length !== got.length || !timingSafeEqual(want, got)) return 'invalid';
  return expires * 1000 > now.getTime() ? 'valid' : 'expired';
}

/**
 * The token of one recipient's unsubscribe link (RFC 8058): the tenant and the address, readable
 * (base64url), and an HMAC of both under the same secret, so that the link needs no key and
 * nobody can unsubscribe another address by changing it. It does not expire: a List-Unsubscribe
 * link must work as long as the email is read.
 */
export function unsubscribeToken(secret: string, tenantId: string, address: string): string {
  const payload = `${tenantId}:${address}`;
  const mac = createHmac('sha256', secret).update(`unsubscribe:${payload}`).digest('base64url').slice(0, 32);
  return `${Buffer.from(payload).toString('base64url')}.${mac}`;
}

/** The tenant and address of a genuine unsubscribe token; undefined for any other string. */
export function readUnsubscribeToken(secret: string, token: string): { tenantId: string; address: string } | undefined {
  const m = /^([A-Za-z0-9_-]{1,600})\.([A-Za-z0-9_-]{32})$/.exec(token);
  if (!m) return undefined;
  const payload = Buffer.from(m[1] as string, 'base64url').toString('utf8');
  const colon = payload.indexOf(':');
  if (colon < 1) return undefined;
  const tenantId = payload.slice(0, colon);
  const address = payload.slice(colon + 1);
  const want = Buffer.from(unsubscribeToken(secret, tenantId, address));
  const got = Buffer.from(token);
  return want.length === got.length && timingSafeEqual(want, got) ? { tenantId, address } : undefined;
}
