export { type AuditDeps, type AuditOptions, auditDomain } from './audit.js';
export { DEFAULT_DOMAIN_BLOCKLISTS, DEFAULT_IP_BLOCKLISTS } from './checks/blocklists/index.js';
export { COMMON_SELECTORS } from './checks/dkim/index.js';
export { organizationalDomain } from './checks/dmarc/index.js';
export { type CheckHostInput, type CheckHostResult, checkHost, type SpfResult } from './checks/spf/check-host.js';
export { parseSpf } from './checks/spf/parse.js';
export { CODES, type Code } from './codes.js';
export { AuditDns, type DnsClient } from './dns/audit-dns.js';
export type { RecordOf, RRType } from './dns/records.js';
export { type DnsAnswer, type DnsStatus, parseServer, Resolver, type ResolverOptions } from './dns/resolver.js';
export { InvalidDomainError, normalizeDomain } from './domain-name.js';
export { isPublicAddress, reservedRange, reverseName } from './net/address.js';
export {
  AddressLimiter,
  type Connector,
  GuardError,
  guardAddress,
  netConnector,
  ProbeCache,
  pinnedLookup,
  resolveAllowed,
  TrustStore,
} from './probes/index.js';
export { SCORING_VERSION } from './scoring.js';
export * from './types.js';
