export * from './addresses.js';
export { createCa, type Issued, issue } from './certs.js';
export { RESOLVER_CACHE_MAX_TTL } from './configs.js';
export { type LabAnswer, type LabQueryOptions, labQuery, typeCode } from './dnsq.js';
export {
  certificateFiles,
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
  signingKeyFile,
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
  ESP_DOMAIN,
  ESP_KEY,
  ESP_SELECTOR,
  GOOD_MX,
  INBOUND_DOMAIN,
  INBOUND_HOST,
  IP_BLOCKLIST,
  type LabVariant,
  MAILHOST_ZONE,
  SENDER_DOMAIN,
  SENDER_KEY,
  SENDER_SELECTOR,
  SENDERS,
  stsPolicy,
} from './scenarios.js';
