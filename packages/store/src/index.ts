export { createSql, type DbOptions, type Sql, type Tx } from './db.js';
export { type Applied, MIGRATIONS_DIR, migrate } from './migrate.js';
export * from './repos/audits.js';
export * from './repos/domains.js';
export * from './repos/idempotency.js';
export * from './repos/nightly.js';
export * from './repos/reports.js';
export * from './repos/tenants.js';
