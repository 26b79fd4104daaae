/**
 * The worker's configuration: readEnv() takes the variables, toConfig() checks them and fills
 * the defaults. Only this file (and the CLI) reads process.env.
 */
import { getServers } from 'node:dns';
import { InvalidDomainError, normalizeDomain, parseServer } from '@mailaudit/engine';

export interface WorkerConfig {
  databaseUrl: string;
  /** @default 'public' */
  databaseSchema: string;
  redisUrl: string;
  /** @default 'mailaudit' */
  redisPrefix: string;
  /** Audits run at once by this process. @default 4 */
  concurrency: number;
  /** How long a job stays locked without a heartbeat before another worker takes it over. @default 30000 */
  lockMs: number;
  /** Deadline of one audit. @default 60000 */
  auditTimeoutMs: number;
  /** How often unfinished audits are looked for to be queued again. @default 30000 */
  sweepIntervalMs: number;
  /** An audit untouched this long while queued or running is queued again. @default 120000 */
  sweepAfterMs: number;
  /** Recursive resolvers; default: the system's. */
  resolvers: string[];
  dkimSelectors?: string[];
  ipBlocklists?: string[];
  domainBlocklists?: string[];
  caFile?: string;
  /** @default false */
  allowPrivateTargets: boolean;
  /** pino-like level for the worker's log lines, or 'silent'. @default 'info' */
  logLevel: string;
  /** Base of the links in emails. @default 'http://127.0.0.1:3000' */
  publicUrl: string;
  /** nodemailer transport URL for summaries and alerts; unset: emails are recorded, not sent. */
  smtpUrl?: string;
  /** @default 'mailaudit@localhost' */
  mailFrom: string;
  /** Secret of the keyless report links in emails, shared with the API; unset: links to the API's report URL. */
  reportLinkSecret?: string;
}

export class ConfigError extends Error {}

const KEYS = [
  'DATABASE_URL',
  'DATABASE_SCHEMA',
  'REDIS_URL',
  'REDIS_PREFIX',
  'WORKER_CONCURRENCY',
  'WORKER_LOCK_MS',
  'AUDIT_TIMEOUT_MS',
  'SWEEP_INTERVAL_MS',
  'SWEEP_AFTER_MS',
  'MAILAUDIT_RESOLVERS',
  'MAILAUDIT_DKIM_SELECTORS',
  'MAILAUDIT_IP_BLOCKLISTS',
  'MAILAUDIT_DOMAIN_BLOCKLISTS',
  'MAILAUDIT_CA_FILE',
  'MAILAUDIT_ALLOW_PRIVATE_TARGETS',
  'LOG_LEVEL',
  'PUBLIC_URL',
  'SMTP_URL',
  'MAIL_FROM',
  'REPORT_LINK_SECRET',
] as const;
export type WorkerEnv = Partial<Record<(typeof KEYS)[number], string>>;

export function readEnv(env: NodeJS.ProcessEnv = process.env): WorkerEnv {
  return Object.fromEntries(
    KEYS.filter((k) => env[k] !== undefined && env[k] !== '').map((k) => [k, env[k]]),
  ) as WorkerEnv;
}

function int(name: string, v: string | undefined, fallback: number, min: number, max: number): number {
  if (v === undefined) return fallback;
  if (!/^\d+$/.test(v) || Number(v) < min || Number(v) > max)
    throw new ConfigError(`${name} must be a whole number from ${min} to ${max}`);
  return Number(v);
}

const list = (v: string | undefined) =>
  v
    ?.split(',')
    .map((s) => s.trim())
    .filter(Boolean);

function zones(name: string, v: string | undefined): string[] | undefined {
  return list(v)?.map((z) => {
    try {
      return normalizeDomain(z);
    } catch (err) {
      if (err instanceof InvalidDomainError) throw new ConfigError(`${name}: ${err.message}`);
      throw err;
    }
  });
}

export function toConfig(env: WorkerEnv): WorkerConfig {
  if (!env.DATABASE_URL) throw new ConfigError('DATABASE_URL is required');
  if (!env.REDIS_URL) throw new ConfigError('REDIS_URL is required');
  const resolvers = list(env.MAILAUDIT_RESOLVERS) ?? getServers();
  if (resolvers.length === 0) throw new ConfigError('no resolver: set MAILAUDIT_RESOLVERS');
  for (const r of resolvers) {
    try {
      parseServer(r);
    } catch (err) {
      throw new ConfigError(`MAILAUDIT_RESOLVERS: ${(err as Error).message}`);
    }
  }
  const allow = env.MAILAUDIT_ALLOW_PRIVATE_TARGETS;
  if (allow !== undefined && allow !== '1' && allow !== '0')
    throw new ConfigError('MAILAUDIT_ALLOW_PRIVATE_TARGETS is 1 or 0');
  const config: WorkerConfig = {
    databaseUrl: env.DATABASE_URL,
    databaseSchema: env.DATABASE_SCHEMA ?? 'public',
    redisUrl: env.REDIS_URL,
    redisPrefix: env.REDIS_PREFIX ?? 'mailaudit',
    concurrency: int('WORKER_CONCURRENCY', env.WORKER_CONCURRENCY, 4, 1, 1000),
    lockMs: int('WORKER_LOCK_MS', env.WORKER_LOCK_MS, 30_000, 1000, 3_600_000),
    auditTimeoutMs: int('AUDIT_TIMEOUT_MS', env.AUDIT_TIMEOUT_MS, 60_000, 1000, 3_600_000),
    sweepIntervalMs: int('SWEEP_INTERVAL_MS', env.SWEEP_INTERVAL_MS, 30_000, 500, 3_600_000),
    sweepAfterMs: int('SWEEP_AFTER_MS', env.SWEEP_AFTER_MS, 120_000, 1000, 86_400_000),
    resolvers,
    allowPrivateTargets: allow === '1',
    logLevel: env.LOG_LEVEL ?? 'info',
    publicUrl: (env.PUBLIC_URL ?? 'http://127.0.0.1:3000').replace(/\/$/, ''),
    mailFrom: env.MAIL_FROM ?? 'mailaudit@localhost',
  };
  if (env.REPORT_LINK_SECRET !== undefined) {
    if (env.REPORT_LINK_SECRET.length < 16) throw new ConfigError('REPORT_LINK_SECRET must be at least 16 characters');
    config.reportLinkSecret = env.REPORT_LINK_SECRET;
  }
  if (env.SMTP_URL) {
    try {
      new URL(env.SMTP_URL);
    } catch {
      throw new ConfigError('SMTP_URL is not a URL (smtp://host:port or smtps://user:pass@host)');
    }
    config.smtpUrl = env.SMTP_URL;
  }
  const selectors = list(env.MAILAUDIT_DKIM_SELECTORS);
  if (selectors) config.dkimSelectors = selectors;
  const ip = zones('MAILAUDIT_IP_BLOCKLISTS', env.MAILAUDIT_IP_BLOCKLISTS);
  if (ip) config.ipBlocklists = ip;
  const dom = zones('MAILAUDIT_DOMAIN_BLOCKLISTS', env.MAILAUDIT_DOMAIN_BLOCKLISTS);
  if (dom) config.domainBlocklists = dom;
  if (env.MAILAUDIT_CA_FILE) config.caFile = env.MAILAUDIT_CA_FILE;
  return config;
}
