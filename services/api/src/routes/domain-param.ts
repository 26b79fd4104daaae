import { InvalidDomainError, normalizeDomain } from '@mailaudit/engine';
import { errors } from '../errors.js';

/**
 * A domain from a request, in its ASCII form, or a 400 that says why it is not one and names
 * `field`, a JSON pointer into the request. @default '/path/domain'
 */
export function domainFrom(input: string, field = '/path/domain'): string {
  try {
    return normalizeDomain(input);
  } catch (err) {
    if (err instanceof InvalidDomainError) throw errors.invalidDomain(field, err.message);
    throw err;
  }
}
