/** The DMARC check as the audit runs it. */
import type { Check } from '../../check.js';
import { type DmarcInput, evaluateDmarc, fetchDmarc } from './index.js';

export const dmarcCheck: Check<void, DmarcInput> = {
  category: 'dmarc',
  fetch: (ctx) => fetchDmarc(ctx.dns, ctx.domain),
  evaluate: (input) => evaluateDmarc(input),
  evidence: (input) => ({
    dmarc: {
      name: input.recordName,
      record: input.text ?? null,
      inherited: input.inherited,
      external: input.external,
    },
  }),
};
