/**
 * What the worker's emails need besides their data: the tenant's brand, language and time zone,
 * the sender its branding names, and the signed links (report pages in the reader's language, the
 * overview page, the recipient's unsubscribe page).
 */
import {
  type Brand,
  brandOf,
  type EmailOptions,
  type Locale,
  logoPath,
  overviewLinkToken,
  pickLocale,
  unsubscribeToken,
} from '@mailaudit/render';
import { getBranding, getSettings, type Tx } from '@mailaudit/store';
import type { WorkerContext } from '../context.js';

/** How long the overview link of an email stays valid. */
export const EMAIL_OVERVIEW_LINK_DAYS = 30;

export interface TenantMail {
  tenantName: string;
  brand: Brand;
  /** The tenant's default language (settings). */
  locale: string;
  timeZone: string;
}

export async function tenantMail(ctx: WorkerContext, sql: Tx, tenantId: string): Promise<TenantMail | undefined> {
  const [b, settings] = await Promise.all([getBranding(sql, tenantId), getSettings(sql, tenantId)]);
  if (!b || !settings) return undefined;
  // The logo from our own origin (GET /brand/<tenant>/logo), as the pages load it: mail clients
  // show a linked image where many refuse a data: URL, and no tenant's server is ever named.
  const logoUrl = b.logo ? `${ctx.config.publicUrl}${logoPath(tenantId, b.logo)}` : null;
  return {
    tenantName: b.tenantName,
    brand: { ...brandOf(b), logoUrl },
    locale: settings.locale,
    timeZone: settings.timezone,
  };
}

/** The recipient's language: their own (set on any of their domains), else the tenant's, else en. */
export function recipientLocale(
  address: string,
  recipientLocales: Record<string, string>[],
  tenantLocale: string | null,
): Locale {
  const own = recipientLocales.map((m) => m[address]).find((l) => typeof l === 'string');
  return pickLocale(own, tenantLocale);
}

/** A keyless report page link in `locale` (an API URL, needing a key, is left as it is). */
export function localized(url: string, locale: Locale): string {
  return /\/r\/[^/?]+\?t=/.test(url) ? `${url}&lang=${locale}` : url;
}

/** A signed link to the tenant's overview page, valid EMAIL_OVERVIEW_LINK_DAYS; null without REPORT_LINK_SECRET. */
export function overviewUrl(ctx: WorkerContext, tenantId: string, locale: Locale): string | null {
  const secret = ctx.config.reportLinkSecret;
  if (!secret) return null;
  const expires = Math.floor(ctx.now().getTime() / 1000) + EMAIL_OVERVIEW_LINK_DAYS * 86_400;
  const q = new URLSearchParams({ e: String(expires), t: overviewLinkToken(secret, tenantId, expires), lang: locale });
  return `${ctx.config.publicUrl}/o/${tenantId}?${q}`;
}

/**
 * The recipient's one-click unsubscribe link (RFC 8058), also the "manage" link of the email:
 * `PUBLIC_URL/u/<token>?lang=<locale>`; null without REPORT_LINK_SECRET (nothing to sign with).
 */
export function unsubscribeUrl(ctx: WorkerContext, tenantId: string, address: string, locale: Locale): string | null {
  const secret = ctx.config.reportLinkSecret;
  if (!secret) return null;
  return `${ctx.config.publicUrl}/u/${unsubscribeToken(secret, tenantId, address)}?lang=${locale}`;
}

/** The options of one recipient's email. */
export function emailOptions(
  ctx: WorkerContext,
  tenantId: string,
  mail: TenantMail,
  address: string,
  locale: Locale,
): EmailOptions & { manageUrl: string | null } {
  return {
    locale,
    brand: mail.brand,
    timeZone: mail.timeZone,
    overviewUrl: overviewUrl(ctx, tenantId, locale),
    manageUrl: unsubscribeUrl(ctx, tenantId, address, locale),
    recipient: address,
  };
}

/** The From of a tenant's emails: its branding's sender name and address, else its brand name and MAIL_FROM. */
export async function senderOf(ctx: WorkerContext, tenantId: string): Promise<{ name: string; address: string }> {
  const b = await getBranding(ctx.sql, tenantId);
  // MAIL_FROM may be written `Name <address>`: its address only (the name is the tenant's).
  const address = b?.senderAddress ?? /<([^<>\s]+)>\s*$/.exec(ctx.config.mailFrom)?.[1] ?? ctx.config.mailFrom.trim();
  const name = b?.senderName ?? b?.productName ?? b?.tenantName ?? '';
  return { name, address };
}
