/** The DKIM check as the audit runs it: the selectors of the audit's settings. */
import type { Check } from '../../check.js';
import { type DkimInput, evaluateDkim, fetchDkim } from './index.js';

export const dkimCheck: Check<void, DkimInput> = {
  category: 'dkim',
  fetch: (ctx) => fetchDkim(ctx.dns, ctx.domain, ctx.settings.dkimSelectors),
  evaluate: (input) => evaluateDkim(input),
  evidence: (input) => ({
    dkim: {
      selectorsTried: input.selectors.length,
      keys: input.keys.map((k) => ({
        selector: k.selector,
        keyType: k.keyType,
        bits: k.bits,
        testing: k.testing,
        revoked: k.revoked,
      })),
    },
  }),
};
