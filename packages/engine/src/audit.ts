/**
 * One domain's audit, as a pipeline of checks in the order of their needs:
 *   0. the domain's MX answer, which also tells whether the domain exists;
 *   1. the domain's own records, side by side (the MX check resolves the MX targets);
 *   2. what needs the mail hosts: their reverse DNS and the blocklists;
 *   3. connections: the probes of the mail hosts, and the MTA-STS policy over HTTPS;
 *   4. last, DNSSEC's scan for bogus answers, which reads every lookup of the audit.
 * Each check fetches through its context, evaluates without I/O and supplies its own evidence
 * (check.ts); this file only orders them, and audit-run.ts assembles the report.
 */
import { type AuditDeps, type AuditOptions, AuditRun } from './audit-run.js';
import { bimiCheck } from './checks/bimi/check.js';
import { blocklistsCheck } from './checks/blocklists/check.js';
import { dkimCheck } from './checks/dkim/check.js';
import { dmarcCheck } from './checks/dmarc/check.js';
import { dnssecCheck } from './checks/dnssec/check.js';
import { diagnoseServfail, fetchDnssec } from './checks/dnssec/index.js';
import { mtaStsCheck, mtaStsPolicyCheck } from './checks/mta-sts/check.js';
import { cannotReceive, mxCheck } from './checks/mx/check.js';
import { isNullMx, mailHosts } from './checks/mx/index.js';
import { ptrCheck } from './checks/ptr/check.js';
import { spfCheck } from './checks/spf/check.js';
import { tlsRptCheck } from './checks/tls-rpt/check.js';
import { failed } from './dns/audit-dns.js';
import { normalizeDomain } from './domain-name.js';
import { finding } from './findings.js';
import { transportCheck } from './probes/check.js';
import { CATEGORY_IDS, type Report } from './types.js';

export type { AuditDeps, AuditOptions } from './audit-run.js';

/** Audits one domain. Throws InvalidDomainError for a name that is not a domain; DNS trouble is reported, not thrown. */
export async function auditDomain(name: string, options: AuditOptions, deps: AuditDeps): Promise<Report> {
  const domain = normalizeDomain(name);
  const audit = new AuditRun(domain, options, deps, deps.now());
  try {
    return await run(audit, domain);
  } finally {
    // The audit's deadline timer goes with it, whichever way it ended.
    audit.dns.close();
  }
}

async function run(audit: AuditRun, domain: string): Promise<Report> {
  // 0. The domain itself: its MX answer also tells whether it exists.
  const apex = await audit.dns.query('mx', domain, 'MX');
  if (apex.status === 'nxdomain') {
    for (const id of CATEGORY_IDS) if (id !== 'domain') audit.set(id, 'skipped');
    audit.addEvidence({ domain: { exists: false, validated: apex.ad } });
    return audit.report([finding('domain.not_found', domain, `${domain} does not exist in DNS (NXDOMAIN).`)]);
  }
  if (failed(apex)) {
    // A SERVFAIL that a query with CD answers is DNSSEC validation failing (RFC 4035 3.2.2), not
    // the domain's servers: for some records only (the audit goes on without them), or for the
    // whole zone (nothing else would validate either).
    const servfail = apex.status === 'servfail' ? await diagnoseServfail(audit.dnsFor('dnssec'), domain) : undefined;
    if (!servfail || servfail.zoneWide) {
      // Every other lookup would fail the same way.
      for (const id of CATEGORY_IDS) audit.set(id, 'error');
      audit.addEvidence({ domain: { exists: servfail ? true : 'unknown' } });
      if (servfail) {
        const state = { domain, state: 'unknown' as const, bogus: { name: domain, type: 'MX' } };
        await audit.run(dnssecCheck, { state: { ...state, unvalidated: servfail.unvalidated }, log: audit.dns.log });
        return audit.report();
      }
      // The domain's own nameservers do not answer (a lame delegation, all of them down): unless
      // the control query finds the resolvers failing (then the report is inconclusive), nobody
      // can find where to deliver this domain's mail.
      const dnsFailed = finding(
        'domain.dns_failed',
        domain,
        `The lookup of ${domain} MX failed (${apex.detail ?? apex.status}) while the resolvers answer other questions: the domain's nameservers do not answer, so no sender can find where to deliver its mail.`,
        { name: domain, type: 'MX', status: apex.status },
      );
      return audit.report([dnsFailed], true);
    }
  }
  audit.addEvidence({ domain: { exists: true } });

  // 1. The domain's own records; DNSSEC's DS walk goes with them, its check runs last (4).
  const hasMx = apex.records.length > 0 && !isNullMx(apex.records);
  const [mx, mtaSts, dnssecState] = await Promise.all([
    audit.run(mxCheck, { answer: apex }),
    audit.run(mtaStsCheck, { mx: apex }),
    fetchDnssec(audit.dnsFor('dnssec'), domain, apex),
    audit.run(spfCheck, { hasMx }),
    audit.run(dmarcCheck),
    audit.run(dkimCheck),
    audit.run(tlsRptCheck),
    audit.run(bimiCheck),
  ]);
  const hosts = mailHosts(mx);

  // 2. What needs the mail hosts.
  await Promise.all([audit.run(ptrCheck, { hosts }), audit.run(blocklistsCheck, { hosts })]);

  // 3. Connections: SMTP, IMAP and POP3 on the mail hosts, and the MTA-STS policy over HTTPS.
  if (audit.settings.probes) {
    await Promise.all([audit.run(transportCheck, { hosts }), audit.run(mtaStsPolicyCheck, { record: mtaSts, mx })]);
  } else audit.set('transport', 'skipped');

  // 4. DNSSEC, whose scan for bogus answers reads every lookup made so far.
  await audit.run(dnssecCheck, { state: dnssecState, log: audit.dns.log });

  return audit.report([], cannotReceive(mx));
}
