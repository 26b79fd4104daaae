/**
 * A tenant's logo as the pages show it: an image kept as a `data:` URL (uploaded, or fetched from
 * the tenant's URL and cached), served from our own origin under a path that changes with the
 * image, so that a page loads nothing from a third party and a new logo is never hidden by a cache.
 * Pure: the fetching is the API's, through the engine's guarded HTTP client.
 */
import { createHash } from 'node:crypto';

export const LOGO_TYPES = ['image/png', 'image/jpeg', 'image/webp', 'image/svg+xml'] as const;
export type LogoType = (typeof LOGO_TYPES)[number];

/** The largest logo kept, in bytes (its data: URL stays under the column's 140,000 characters). */
export const LOGO_MAX_BYTES = 100 * 1024;

/**
 * The image type of `body` by its first bytes (PNG, JPEG and WebP signatures; SVG as XML text whose
 * root element is `svg`), whatever a server said it was; undefined for anything else.
 */
export function sniffImage(body: Uint8Array): LogoType | undefined {
  const b = Buffer.from(body.buffer, body.byteOffset, body.byteLength);
  if (b.length >= 8 && b.subarray(0, 8).equals(Buffer.from([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a])))
    return 'image/png';
  if (b.length >= 3 && b[0] === 0xff && b[1] === 0xd8 && b[2] === 0xff) return 'image/jpeg';
  if (b.length >= 12 && b.toString('latin1', 0, 4) === 'RIFF' && b.toString('latin1', 8, 12) === 'WEBP')
    return 'image/webp';
  // SVG: an XML declaration, comments and a doctype may come before the root element.
  const head = b
    .subarray(0, 4096)
    .toString('utf8')
    .replace(/^\uFEFF/, '');
  const root = head.replace(/^\s*(?:<\?xml[^>]*\?>\s*)?(?:(?:<!--[\s\S]*?-->|<!DOCTYPE[^>]*>)\s*)*/i, '');
  if (/^<svg[\s>]/.test(root)) return 'image/svg+xml';
  return undefined;
}

export function logoDataUrl(type: LogoType, body: Uint8Array): string {
  return `data:${type};base64,${Buffer.from(body).toString('base64')}`;
}

/** The type and bytes of a logo kept as a data: URL; undefined when it is not one of ours. */
export function parseLogo(dataUrl: string): { type: LogoType; body: Buffer } | undefined {
  const m = /^data:(image\/(?:png|jpeg|webp|svg\+xml));base64,([A-Za-z0-9+/=]+)$/.exec(dataUrl);
  if (!m) return undefined;
  return { type: m[1] as LogoType, body: Buffer.from(m[2] ?? '', 'base64') };
}

/** Where a page loads the tenant's logo from: our origin, the path changing with the image. */
export function logoPath(tenantId: string, dataUrl: string): string {
  const version = createHash('sha256').update(dataUrl).digest('hex').slice(0, 16);
  return `/brand/${tenantId}/logo?v=${version}`;
}
