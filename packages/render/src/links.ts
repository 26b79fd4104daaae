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
