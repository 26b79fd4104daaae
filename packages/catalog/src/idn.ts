/**
 * Domain names for people: an IDN's A-labels (`xn--…`, RFC 5890) shown as Unicode. The ASCII form
 * stays the key everywhere else (reports, JSON, the store); this is for display only.
 */
import { domainToUnicode } from 'node:url';

/**
 * `xn--mnchen-3ya.de` → `münchen.de`. Names without an A-label come back as they are, and so does
 * anything that does not decode (an invalid A-label is shown as written, never dropped). A
 * `host:port` or `zone:address` subject keeps its suffix.
 */
export function displayDomain(ascii: string): string {
  if (typeof ascii !== 'string' || !/xn--/i.test(ascii)) return ascii;
  return ascii.replace(/[a-z0-9._-]*xn--[a-z0-9._-]*/gi, (name) => {
    const trailingDot = name.endsWith('.') ? '.' : '';
    const unicode = domainToUnicode(trailingDot ? name.slice(0, -1) : name);
    return unicode === '' ? name : unicode + trailingDot;
  });
}
