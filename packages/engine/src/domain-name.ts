/**
 * Turns what a person typed into the ASCII domain an audit works on, or says in one line why it
 * is not a domain. Unicode names become punycode (IDNA via node:url's WHATWG implementation).
 */
import { isIP } from 'node:net';
import { domainToASCII } from 'node:url';

export class InvalidDomainError extends Error {
  readonly code = 'invalid_domain';
  constructor(
    readonly input: string,
    readonly reason: string,
  ) {
    super(`${JSON.stringify(input)} is not a domain: ${reason}`);
    this.name = 'InvalidDomainError';
  }
}

const LABEL = /^(?!-)[a-z0-9-]{1,63}(?<!-)$/;

/** The ASCII, lower-case form of `input` without a trailing dot; throws InvalidDomainError. */
export function normalizeDomain(input: string): string {
  const raw = input.trim();
  const fail = (reason: string): never => {
    throw new InvalidDomainError(input, reason);
  };
  if (raw.length === 0) fail('it is empty');
  if (raw.length > 1024) fail('it is far too long');
  if (raw.includes('@')) fail('it looks like an email address; give the part after @');
  if (/^[a-z][a-z0-9+.-]*:\/\//i.test(raw) || raw.includes('/')) fail('it looks like a URL; give the host name only');
  if (isIP(raw) || isIP(raw.replace(/^\[|\]$/g, ''))) fail('it is an IP address');
  if (/\s/.test(raw)) fail('it contains white space');
  const undotted = raw.endsWith('.') ? raw.slice(0, -1) : raw;
  if (undotted.includes('..') || undotted.startsWith('.')) fail('it has an empty label');
  if (undotted.includes('_')) fail('a domain name cannot contain "_"');
  const ascii = domainToASCII(undotted).toLowerCase();
  if (!ascii) fail('it is not a valid internationalized domain name');
  if (ascii.length > 253) fail(`it is ${ascii.length} characters long; the limit is 253`);
  const labels = ascii.split('.');
  if (labels.length < 2) fail('it has a single label; give a domain such as example.com');
  for (const label of labels) {
    if (label.length > 63) fail(`the label "${label.slice(0, 20)}…" is longer than 63 characters`);
    if (!LABEL.test(label)) fail(`the label "${label}" is not letters, digits and inner hyphens`);
  }
  if (/^\d+$/.test(labels.at(-1) ?? '')) fail('its top-level label is all digits');
  return ascii;
}
