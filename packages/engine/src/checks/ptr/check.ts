/** The reverse DNS check as the audit runs it: on the mail hosts the MX check found. */
import type { Check } from '../../check.js';
import type { MailHost } from '../mx/index.js';
import { evaluatePtr, fetchPtr, type PtrEntry } from './index.js';

export const ptrCheck: Check<{ hosts: MailHost[] }, PtrEntry[]> = {
  // Reverse lookups of the MX hosts count against the MX category.
  category: 'mx',
  fetch: (ctx, { hosts }) => fetchPtr(ctx.dns, hosts),
  evaluate: (entries) => evaluatePtr(entries),
  evidence: (entries) => ({ ptr: entries }),
};
