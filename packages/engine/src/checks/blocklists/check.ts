/** The blocklist check as the audit runs it: the mail hosts' addresses and the domain, against the settings' lists. */
import type { Check } from '../../check.js';
import type { MailHost } from '../mx/index.js';
import { type BlocklistEntry, evaluateBlocklists, fetchBlocklists } from './index.js';

export interface BlocklistsInput {
  entries: BlocklistEntry[];
  /** The lists asked. */
  asked: { ip: string[]; domain: string[] };
}

export const blocklistsCheck: Check<{ hosts: MailHost[] }, BlocklistsInput> = {
  category: 'blocklist',
  async fetch(ctx, { hosts }) {
    const { ipBlocklists: ip, domainBlocklists: domain } = ctx.settings;
    const addresses = [...new Set(hosts.flatMap((h) => h.usable))];
    return { entries: await fetchBlocklists(ctx.dns, ctx.domain, addresses, ip, domain), asked: { ip, domain } };
  },
  evaluate: (input) => evaluateBlocklists(input.entries),
  evidence: (input) => ({
    blocklists: input.entries.filter((b) => b.state !== 'clear'),
    blocklistsAsked: input.asked,
  }),
  condition: (input) => (input.asked.ip.length + input.asked.domain.length === 0 ? 'skipped' : undefined),
};
