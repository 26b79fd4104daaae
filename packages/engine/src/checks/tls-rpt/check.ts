/** The TLS-RPT check as the audit runs it. */
import type { Check } from '../../check.js';
import { evaluateTlsRpt, fetchTlsRpt, type TlsRptInput } from './index.js';

export const tlsRptCheck: Check<void, TlsRptInput> = {
  category: 'tls-rpt',
  fetch: (ctx) => fetchTlsRpt(ctx.dns, ctx.domain),
  evaluate: (input) => evaluateTlsRpt(input),
  evidence: (input) => ({ tlsRpt: { records: input.records } }),
};
