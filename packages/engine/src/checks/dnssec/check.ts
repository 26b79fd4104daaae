/**
 * The DNSSEC check as the audit runs it: the state from the DS walk (fetched with the domain's
 * records), then the scan for bogus answers, which reads every lookup of the audit and so runs last.
 */
import type { Check } from '../../check.js';
import type { LookupRecord } from '../../dns/audit-dns.js';
import { type DnssecInput, evaluateDnssec, findBogus } from './index.js';

export const dnssecCheck: Check<{ state: DnssecInput; log: LookupRecord[] }, DnssecInput> = {
  category: 'dnssec',
  async fetch(ctx, { state, log }) {
    // Already found bogus (the domain's own MX answer, diagnosed before anything else ran).
    if (state.bogus) return state;
    const found = await findBogus(ctx.dns, ctx.domain, log);
    const first = found[0];
    return first ? { ...state, bogus: { name: first.name, type: first.type }, unvalidated: found } : state;
  },
  evaluate: (input) => evaluateDnssec(input),
  evidence: (input) => ({
    dnssec: {
      state: input.bogus ? 'bogus' : input.state,
      provenAt: input.provenAt ?? null,
      bogus: input.bogus ?? null,
      unvalidated: input.unvalidated ?? [],
    },
  }),
  // Neither proven signed nor proven unsigned, and no bogus answer to show for it: unknown.
  condition: (input) => (input.state === 'unknown' && !input.bogus ? 'error' : undefined),
};
