/** The MX check as the audit runs it, and what its input tells of the domain's mail as a whole. */
import type { Check } from '../../check.js';
import { failed } from '../../dns/audit-dns.js';
import type { DnsAnswer } from '../../dns/resolver.js';
import { evaluateMx, fetchMx, type MxInput, mailHosts } from './index.js';

export const mxCheck: Check<{ answer: DnsAnswer<'MX'> }, MxInput> = {
  category: 'mx',
  fetch: (ctx, { answer }) => fetchMx(ctx.dns, ctx.domain, answer, ctx.settings.allowPrivateTargets),
  evaluate: (input) => evaluateMx(input),
  evidence: (input) => ({
    mx: {
      records: input.mx.records,
      hosts: mailHosts(input).map((h) => ({
        name: h.name,
        source: h.source,
        preference: h.preference,
        addresses: h.addresses,
      })),
    },
  }),
};

/**
 * No MX target anyone could deliver to: no address at all, or (without --allow-private-targets)
 * only non-public ones. A target whose lookup failed is not counted as undeliverable.
 */
export function cannotReceive(input: MxInput): boolean {
  const unknownTarget = input.targets.some((t) => t.lookups.some(failed));
  return input.targets.length > 0 && !unknownTarget && mailHosts(input).every((h) => h.usable.length === 0);
}
