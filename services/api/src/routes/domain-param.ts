import { InvalidDomainError, normalizeDomain } from '@mailaudit/engine';
import { errors } from '../errors.js';

/** A domain from a request, in its ASCII form, or a 400 that says why it is not one. */
export function domainFrom(input: string, field = 'domain'): string {
  try {
    return normalizeDomain(input);
  } catch (err) {
    if (err instanceof InvalidDomainError) throw errors.invalidDomain(`${field}: ${err.message}`);
    throw err;
  }
}
