export {
  createSql,
  type DbOptions,
  isDatabaseUnavailable,
  isDataException,
  jsonb,
  ping,
  type Sql,
  type Tx,
} from './db.js';
export { type Applied, ensureSchema, MIGRATIONS_DIR, migrate } from './migrate.js';
export * from './repos/audits.js';
export * from './repos/changes.js';
export * from './repos/domains.js';
export * from './repos/emails.js';
export * from './repos/idempotency.js';
export * from './repos/keys.js';
export * from './repos/message-tests.js';
export * from './repos/nightly-runs.js';
export * from './repos/opt-outs.js';
export * from './repos/overview.js';
export * from './repos/pages.js';
export * from './repos/reports.js';
export * from './repos/tenants.js';
export * from './repos/webhooks.js';
