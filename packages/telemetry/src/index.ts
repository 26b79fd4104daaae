export { createLogger, type Level, type Logger } from './logger.js';
export {
  AuditMetrics,
  type AuditOutcome,
  auditMetrics,
  type ClusterSources,
  DURATION_BUCKETS,
  type ProbeSourceCounts,
  Registry,
  registerClusterGauges,
  registerProbeSources,
} from './metrics.js';
