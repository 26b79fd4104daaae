/** The SPF check as the audit runs it. */
import type { Check } from '../../check.js';
import { evaluateSpf, fetchSpf, type SpfInput } from './index.js';

export const spfCheck: Check<{ hasMx: boolean }, SpfInput> = {
  category: 'spf',
  fetch: (ctx, { hasMx }) => fetchSpf(ctx.dns, ctx.domain, hasMx),
  evaluate: (input) => evaluateSpf(input),
  evidence: (input) => ({
    spf: {
      record: input.root.text ?? null,
      lookups: input.lookups,
      voidLookups: input.voidLookups,
      voidTerms: input.voidTerms,
    },
  }),
};
