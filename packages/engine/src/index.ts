export { type AuditDeps, type AuditOptions, auditDomain } from './audit.js';
export { DEFAULT_DOMAIN_BLOCKLISTS, DEFAULT_IP_BLOCKLISTS } from './checks/blocklists/index.js';
export { COMMON_SELECTORS } from './checks/dkim/index.js';
export { organizationalDomain } from './checks/dmarc/index.js';
export { type CheckHostInput, type CheckHostResult, checkHost, type SpfResult } from './checks/spf/check-host.js';
export { parseSpf } from './checks/spf/parse.js';
export { CODES, type Code } from './codes.js';
export { AuditDns, type DnsClient, failed } from './dns/audit-dns.js';
export { DnsCache, type DnsCacheOptions, type DnsCacheStats } from './dns/cache.js';
export { type ControlCheck, type ControlResult, ResolverHealth, type ResolverHealthOptions } from './dns/control.js';
export type { RecordOf, RRType } from './dns/records.js';
export {
  type DnsAnswer,
  type DnsStatus,
  type DnsTransport,
  parseServer,
  Resolver,
  type ResolverOptions,
} from './dns/resolver.js';
export { InvalidDomainError, normalizeDomain } from './domain-name.js';
export {
  type AuthResult,
  analyzeMessage,
  type DkimSignature,
  evaluateMessage,
  fetchMessage,
  type MessageDeps,
  type MessageEvidence,
  type MessageInput,
  type MessageOptions,
  type MessageReport,
  mailauthResolver,
  selectorsFound,
} from './message/index.js';
export { isPublicAddress, reservedRange, reverseName } from './net/address.js';
export { type Connector, netConnector, type TcpConnectorOptions, tcpConnector } from './net/connect.js';
export { GuardError, guardAddress, resolveAllowed } from './net/guard.js';
export {
  GuardedHttpClient,
  type GuardedHttpOptions,
  type HttpClient,
  HttpError,
  type HttpErrorCode,
  type HttpReach,
  type HttpRequest,
  type HttpResponse,
} from './net/http.js';
export { TrustStore } from './net/trust.js';
export { CODE_PARAMS, type ParamSpec, type ParamsOf, REASONS, type Reason } from './params.js';
export { AuditPool, type AuditPoolOptions, PoolAuditError, type ProbeShareFactory } from './pool.js';
export { EgressWitness, type EgressWitnessOptions } from './probes/egress.js';
export {
  type Port25Seen,
  type Port25Unknown,
  type Port25Verdict,
  port25Seen,
  port25Verdict,
} from './probes/evaluate.js';
export {
  AddressLimiter,
  bothLimits,
  type ConnectionLimiter,
  ProbeCache,
  type ProbeCacheOptions,
  type ProbeShare,
  type SharedRun,
} from './probes/limits.js';
export { isStoredProbe, loadProbe, probeKey, type StoredProbe, storeProbe } from './probes/stored.js';
export type { PortProbe, PortResult, PortTarget, ProbeEnv } from './probes/types.js';
export {
  CAPS,
  GRADE_TABLE,
  gradeOf,
  NOT_CHECKED_CODES,
  outcomeOf,
  rescore,
  SCORING_VERSION,
  score as scoreFindings,
  UNKNOWN_CODES,
  WEIGHTS,
} from './scoring.js';
export * from './types.js';
