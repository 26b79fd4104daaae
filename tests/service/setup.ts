/**
 * A service under test against the real Postgres and Redis: its own schema and its own Redis key
 * prefix per test file, migrations applied, tenants and keys created through the store.
 */
import { randomBytes } from 'node:crypto';
import { type ApiContext, type App, buildApp, createContext } from '@mailaudit/api';
import { type Config, readEnv, toConfig } from '@mailaudit/config';
import { certificateFiles, INBOUND_ADDRESS, INBOUND_DOMAIN, INBOUND_HOST, type LabInfo } from '@mailaudit/lab';
import { createApiKey, createSql, createTenant, migrate, type Scope, type Sql } from '@mailaudit/store';
import { createWorkerContext, type RunningWorker, startWorker } from '@mailaudit/worker';

export const DATABASE_URL = process.env.TEST_DATABASE_URL ?? 'postgres://postgres@127.0.0.1:5432/test';
export const REDIS_URL = process.env.TEST_REDIS_URL ?? 'redis://127.0.0.1:6379';

export interface TestService {
  schema: string;
  prefix: string;
  sql: Sql;
  ctx: ApiContext;
  app: App;
  apiConfig: Config;
  workerConfig: Config;
  workerEnv: Record<string, string>;
  tenant(name?: string): Promise<{ id: string; key(scopes?: Scope[]): Promise<string> }>;
  startWorker(overrides?: Partial<Config>): Promise<RunningWorker>;
  close(): Promise<void>;
}

export async function createTestService(
  lab: LabInfo,
  opts: {
    redisUrl?: string;
    rateLimitPerMinute?: number;
    authFailuresPerMinute?: number;
    tenantMaxQueuedAudits?: number;
    /** The API's MAILAUDIT_ALLOW_PRIVATE_TARGETS (the lab is on loopback). @default true */
    allowPrivateTargets?: boolean;
  } = {},
): Promise<TestService> {
  const schema = `t_${randomBytes(5).toString('hex')}`;
  const prefix = `test:${schema}`;
  const redisUrl = opts.redisUrl ?? REDIS_URL;
  const admin = createSql(DATABASE_URL, { max: 1 });
  await admin`create schema ${admin(schema)}`;
  await admin.end();
  const sql = createSql(DATABASE_URL, { schema });
  await migrate(sql);
  const apiConfig = toConfig(
    readEnv({
      DATABASE_URL,
      DATABASE_SCHEMA: schema,
      REDIS_URL: redisUrl,
      REDIS_PREFIX: prefix,
      PORT: '0',
      PUBLIC_URL: 'http://api.test',
      RATE_LIMIT_PER_MINUTE: String(opts.rateLimitPerMinute ?? 10_000),
      AUTH_FAILURES_PER_MINUTE: String(opts.authFailuresPerMinute ?? 100_000),
      TENANT_MAX_QUEUED_AUDITS: String(opts.tenantMaxQueuedAudits ?? 10_000),
      LOG_LEVEL: 'silent',
      MAILAUDIT_ALLOW_PRIVATE_TARGETS: opts.allowPrivateTargets === false ? '0' : '1',
      MAILAUDIT_RESOLVERS: lab.resolver,
      MAILAUDIT_CA_FILE: lab.caFile,
      REPORT_LINK_SECRET: 'test-report-link-secret',
      INBOUND_DOMAIN,
    }),
  );
  const workerEnv: Record<string, string> = {
    DATABASE_URL,
    DATABASE_SCHEMA: schema,
    REDIS_URL: redisUrl,
    REDIS_PREFIX: prefix,
    MAILAUDIT_RESOLVERS: lab.resolver,
    MAILAUDIT_ALLOW_PRIVATE_TARGETS: '1',
    MAILAUDIT_CA_FILE: lab.caFile,
    MAILAUDIT_IP_BLOCKLISTS: lab.ipBlocklists.join(','),
    MAILAUDIT_DOMAIN_BLOCKLISTS: lab.domainBlocklists.join(','),
    LOG_LEVEL: process.env.TEST_WORKER_LOG ?? 'silent',
    REPORT_LINK_SECRET: 'test-report-link-secret',
    WORKER_LOCK_MS: '3000',
    SWEEP_INTERVAL_MS: '1000',
    SWEEP_AFTER_MS: '4000',
  };
  const wc = toConfig(readEnv(workerEnv));
  const ctx = createContext(apiConfig, { sql });
  const app = await buildApp(ctx);
  const workers: RunningWorker[] = [];
  return {
    schema,
    prefix,
    sql,
    ctx,
    app,
    apiConfig,
    workerConfig: wc,
    workerEnv,
    async tenant(name = 'tenant') {
      const t = await createTenant(sql, name);
      return {
        id: t.id,
        key: async (scopes: Scope[] = ['read', 'audit', 'admin']) => (await createApiKey(sql, t.id, scopes)).key,
      };
    },
    async startWorker(overrides = {}) {
      // A worker of this process records into the API's registry, as with `mailaudit start`.
      const config = { ...wc, ...overrides };
      const w = await startWorker(config, createWorkerContext(config, { metrics: ctx.metrics }));
      workers.push(w);
      return w;
    },
    async close() {
      for (const w of workers) await w.close().catch(() => {});
      await app.close();
      const keys = await ctx.redis.keys(`${prefix}:*`).catch(() => [] as string[]);
      if (keys.length) await ctx.redis.del(...keys).catch(() => {});
      await ctx.close();
      const cleanup = createSql(DATABASE_URL, { max: 1 });
      await cleanup`drop schema ${cleanup(schema)} cascade`;
      await cleanup.end();
    },
  };
}

/** Polls until `check` returns a value (not undefined), or fails after `ms`. */
/**
 * The environment of a `mailaudit inbound` beside this service on the lab: the service's schema and
 * key prefix, the lab's receiver name, address and certificate, any free port. Callers add their
 * own limits and blocklists.
 */
export function inboundEnv(svc: Pick<TestService, 'schema' | 'prefix'>, lab: LabInfo): Record<string, string> {
  const cert = certificateFiles(INBOUND_HOST);
  return {
    DATABASE_URL,
    DATABASE_SCHEMA: svc.schema,
    REDIS_URL,
    REDIS_PREFIX: svc.prefix,
    INBOUND_DOMAIN,
    INBOUND_HOSTNAME: INBOUND_HOST,
    INBOUND_HOST: INBOUND_ADDRESS,
    INBOUND_PORT: '0',
    INBOUND_TLS_CERT: cert.certFile,
    INBOUND_TLS_KEY: cert.keyFile,
    MAILAUDIT_RESOLVERS: lab.resolver,
    MAILAUDIT_ALLOW_PRIVATE_TARGETS: '1',
    LOG_LEVEL: 'silent',
  };
}

export async function eventually<T>(what: string, check: () => Promise<T | undefined>, ms = 20_000): Promise<T> {
  const deadline = Date.now() + ms;
  for (;;) {
    const v = await check();
    if (v !== undefined) return v;
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 100));
  }
}
