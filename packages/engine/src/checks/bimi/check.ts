/** The BIMI check as the audit runs it. */
import type { Check } from '../../check.js';
import { type BimiInput, evaluateBimi, fetchBimi } from './index.js';

export const bimiCheck: Check<void, BimiInput> = {
  category: 'bimi',
  fetch: (ctx) => fetchBimi(ctx.dns, ctx.domain),
  evaluate: (input) => evaluateBimi(input),
  evidence: (input) => ({ bimi: { records: input.records } }),
};
