export * from './addresses.js';
export { createCa, type Issued, issue } from './certs.js';
export { type LabAnswer, type LabQueryOptions, labQuery, typeCode } from './dnsq.js';
export {
  down,
  ensureLab,
  isUp,
  type LabInfo,
  type LabOptions,
  type LabState,
  labDir,
  REQUIRED_BINARIES,
  routesLocally,
  setVariant,
  status,
  up,
} from './lab.js';
export * from './model.js';
export {
  BULK_HOSTS,
  buildModel,
  bulkDomainName,
  DKIM_SELECTOR,
  DOMAIN_BLOCKLIST,
  GOOD_MX,
  IP_BLOCKLIST,
  type LabVariant,
  MAILHOST_ZONE,
  stsPolicy,
} from './scenarios.js';
