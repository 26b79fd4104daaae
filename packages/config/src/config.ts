/**
 * The configuration of the API, the workers and the service commands, in two steps (STYLE.md 8):
 * readEnv() takes the known variables from the environment, toConfig() checks them against the one
 * schema (variables.ts), fills the defaults and names every bad variable in one ConfigError. Only
 * this package and the command line read process.env.
 */
import type { DnsTransport } from '@mailaudit/engine';
import type { StaticDecode, TObject, TSchema } from 'typebox';
import { Value } from 'typebox/value';
import { DatabaseEnv, ENV_NAMES, Env, type EnvName, type LogLevel } from './variables.js';

/** A variable is missing or malformed; the message names each (and never echoes a secret). */
export class ConfigError extends Error {
  override name = 'ConfigError';
}

/** The variables as given: only known names, and an empty value counts as unset. */
export type RawEnv = Partial<Record<EnvName, string>>;

export function readEnv(env: Record<string, string | undefined> = process.env): RawEnv {
  const out: RawEnv = {};
  for (const name of ENV_NAMES) {
    const v = env[name];
    if (v !== undefined && v !== '') out[name] = v;
  }
  return out;
}

export interface DatabaseConfig {
  databaseUrl: string;
  /** Schema of the tables (tests use one per file). @default 'public' */
  databaseSchema: string;
}

export interface Config extends DatabaseConfig {
  redisUrl: string;
  /** Prefix of every Redis key (queues, rate limits). @default 'mailaudit' */
  redisPrefix: string;
  /** API port. @default 3000 */
  port: number;
  /** API address. @default '127.0.0.1' */
  host: string;
  /** Base of Location headers, the OpenAPI server and the links in emails. @default `http://<host>:<port>` */
  publicUrl: string;
  /** Requests per minute per tenant (all its keys together). @default 600 */
  rateLimitPerMinute: number;
  /** Audits a tenant may have queued or running at once; more are refused with 429. @default 10000 */
  tenantMaxQueuedAudits: number;
  /** Failed authentications per minute per client address before its requests are refused (429) unread. @default 30 */
  authFailuresPerMinute: number;
  /** Largest request body. @default 262144 */
  bodyLimit: number;
  /** pino level of the log lines, or 'silent'. @default 'info' */
  logLevel: LogLevel;
  /** Port of a worker's /metrics (0: any free port); unset: none. The API serves its process's at /metrics. */
  metricsPort?: number;
  /** Address of a worker's /metrics. @default '127.0.0.1' */
  metricsHost: string;
  /** Audits run at once by a worker process. @default 4 */
  concurrency: number;
  /** Threads a worker process runs its audits on; 0: one per core (os.availableParallelism()), 1: none. @default 0 */
  auditThreads: number;
  /**
   * V8's young generation of each audit thread, in MB (Worker `resourceLimits.maxYoungGenerationSizeMb`);
   * 0: V8's own or node's flags (Node 24 lets a busy thread's new space grow to 128 MB). @default 48
   */
  threadYoungMb: number;
  /** DNS answers a worker keeps at most, per audit thread (the least recently used go first). @default 10000 */
  dnsCacheMaxEntries: number;
  /**
   * How a worker's audits send their DNS queries: 'udp', or 'tcp' (pipelined over a few TCP
   * connections per resolver and audit thread; ResolverOptions `transport`). @default 'udp'
   */
  dnsTransport: DnsTransport;
  /** How long a job stays locked without a heartbeat before another worker takes it over. @default 30000 */
  lockMs: number;
  /** Deadline of one audit. @default 60000 ({@link DEFAULT_AUDIT_TIMEOUT_MS}) */
  auditTimeoutMs: number;
  /** How often unfinished audits and nights are looked for. @default 30000 */
  sweepIntervalMs: number;
  /** An audit untouched this long while queued or running is queued again. @default 120000 */
  sweepAfterMs: number;
  /** A night holds its summaries when at least this many of its audits are inconclusive… @default 3 */
  outageMinAudits: number;
  /** …and at least this share of them, in percent. @default 25 */
  outageSharePercent: number;
  /** How long after its start a held night retries its inconclusive audits. @default 14400000 (4 h) */
  nightRetryWindowMs: number;
  /** Delay before a held night's first retry, doubled for each next one. @default 300000 */
  nightRetryBackoffMs: number;
  /** How long the control query's answer about the resolvers is kept. @default 30000 */
  resolverCheckTtlMs: number;
  /** Probe results and the per-address connection limit shared by every worker through Redis; false: per process. @default true */
  probeShare: boolean;
  /** How long a probe result the server's behaviour made is reused, by every worker. @default 300000 */
  probeCacheTtlMs: number;
  /** How long a probe that saw nothing (a timeout, a network error) is reused; 0: only by the audits that waited for it. @default 5000 */
  probeCacheUnknownTtlMs: number;
  /** Lifetime of a worker's claim on a probe or a connection slot unless renewed (a killed worker's expires after it). @default 15000 */
  probeLockMs: number;
  /** Connections at once per mail host address, for all the workers together (per process without the share). @default 4 */
  probePerAddress: number;
  /** Where the operators' alert of a resolver outage is mailed (with SMTP_URL); unset: log and metric only. */
  operatorEmail?: string;
  /** Recursive resolvers (ip or ip:port); empty: the system's. @default [] */
  resolvers: string[];
  dkimSelectors?: string[];
  ipBlocklists?: string[];
  domainBlocklists?: string[];
  /** Extra trust anchors (PEM) beside the system's. */
  caFile?: string;
  /** Audits and webhook URLs may reach loopback, private and reserved addresses. @default false */
  allowPrivateTargets: boolean;
  /** nodemailer transport URL of summaries and alerts; unset: emails are recorded as failed, not sent. */
  smtpUrl?: string;
  /** @default 'mailaudit@localhost' */
  mailFrom: string;
  /** Secret of the keyless report links (/r/:id?t=…), the same for the API and the workers; unset: no such links. */
  reportLinkSecret?: string;
  /** Domain of test addresses (the API hands them out, `mailaudit inbound` receives); unset: no test messages. */
  inboundDomain?: string;
}

/** The test-message receiver (`mailaudit inbound`), besides what it shares with the other processes. */
export interface InboundSettings {
  /** The domain of test addresses (INBOUND_DOMAIN). */
  domain: string;
  /** Name in the SMTP greeting and the authserv-id of the results. @default the inbound domain */
  hostname: string;
  /** @default '127.0.0.1' */
  host: string;
  /** @default 25 */
  port: number;
  /** PEM files of the STARTTLS certificate chain and its key. */
  tlsCertFile: string;
  tlsKeyFile: string;
  /** Largest message accepted. @default 5242880 */
  maxMessageBytes: number;
  /** Connections at once in all. @default 40 */
  maxConnections: number;
  /** Connections at once per client address. @default 3 */
  maxConnectionsPerAddress: number;
  /** Recipients of one message. @default 5 */
  maxRecipients: number;
  /** Idle time before a connection is dropped. @default 30000 */
  idleTimeoutMs: number;
  /** Longest life of one connection. @default 300000 */
  sessionTimeoutMs: number;
  /** Deadline of one message's analysis. @default 30000 */
  analysisTimeoutMs: number;
}

const isSensitive = (schema: TSchema) => (schema as { sensitive?: boolean }).sensitive === true;

/**
 * Checks `raw` against `schema` and decodes it; every bad variable is named in one ConfigError,
 * with what `rules` between variables find in the variables with their defaults (a variable the
 * schema already refused is named once, for that).
 */
function decode<T extends TObject>(
  schema: T,
  raw: RawEnv,
  rules: (env: Record<string, unknown>) => [EnvName, string][] = () => [],
): StaticDecode<T> {
  const withDefaults = Value.Default(schema, Value.Clone(raw)) as Record<string, unknown>;
  const problems = new Map<string, string>();
  for (const e of Value.Errors(schema, withDefaults)) {
    if (e.keyword === 'required') {
      for (const name of e.params.requiredProperties)
        problems.set(name, `${name} is required (see the README's configuration table)`);
      continue;
    }
    const name = e.instancePath.split('/')[1];
    if (!name || problems.has(name)) continue;
    const prop: TSchema & { description?: string } = schema.properties[name] ?? {};
    const given = (raw as Record<string, string | undefined>)[name];
    const what = e.keyword === '~refine' ? e.message : (prop.description ?? e.message);
    problems.set(
      name,
      `${name} must be ${what}${isSensitive(prop) || given === undefined ? '' : `, not ${JSON.stringify(given)}`}`,
    );
  }
  for (const [name, problem] of rules(withDefaults)) if (!problems.has(name)) problems.set(name, problem);
  if (problems.size > 0) throw new ConfigError([...problems.values()].join('; '));
  return Value.Decode(schema, withDefaults);
}

/**
 * With SMTP_URL set, emails go out, and every link in them must open without an API key on the
 * API's public address (issue 10, item 6): without PUBLIC_URL they would point at this machine's
 * own address (`http://HOST:PORT`), which opens nowhere else; without REPORT_LINK_SECRET they
 * would lead to report URLs that need a key, and no email could carry a one-click unsubscribe
 * (RFC 8058). Held in every process that reads the whole configuration, like any other rule: the
 * API needs the same secret to open the pages the workers link to.
 */
function linkProblems(env: Record<string, unknown>): [EnvName, string][] {
  if (!env.SMTP_URL) return [];
  const out: [EnvName, string][] = [];
  if (!env.PUBLIC_URL) {
    out.push([
      'PUBLIC_URL',
      `PUBLIC_URL is required when SMTP_URL is set: the links in emails (report pages, the overview, one-click unsubscribe) must open on the API's public address, not on ${listenUrl(String(env.HOST), String(env.PORT))}`,
    ]);
  }
  if (!env.REPORT_LINK_SECRET) {
    out.push([
      'REPORT_LINK_SECRET',
      'REPORT_LINK_SECRET is required when SMTP_URL is set (at least 16 characters, the same for the API and the workers): without it the links in emails need an API key to open and emails carry no one-click unsubscribe',
    ]);
  }
  return out;
}

/** The API's own address, `http://HOST:PORT` (an IPv6 host in brackets): PUBLIC_URL's default. */
function listenUrl(host: string, port: string | number): string {
  return `http://${host.includes(':') ? `[${host}]` : host}:${port}`;
}

/** The database settings alone: what migrate, tenant and key need. */
export function toDatabaseConfig(raw: RawEnv): DatabaseConfig {
  const e = decode(DatabaseEnv, raw);
  return { databaseUrl: e.DATABASE_URL, databaseSchema: e.DATABASE_SCHEMA };
}

/** The whole configuration: the API, the workers, `nightly run` and `start`. */
export function toConfig(raw: RawEnv): Config {
  return configOf(decode(Env, raw, linkProblems));
}

function configOf(e: StaticDecode<typeof Env>): Config {
  const config: Config = {
    databaseUrl: e.DATABASE_URL,
    databaseSchema: e.DATABASE_SCHEMA,
    redisUrl: e.REDIS_URL,
    redisPrefix: e.REDIS_PREFIX,
    port: e.PORT,
    host: e.HOST,
    publicUrl: (e.PUBLIC_URL ?? listenUrl(e.HOST, e.PORT)).replace(/\/+$/, ''),
    rateLimitPerMinute: e.RATE_LIMIT_PER_MINUTE,
    tenantMaxQueuedAudits: e.TENANT_MAX_QUEUED_AUDITS,
    authFailuresPerMinute: e.AUTH_FAILURES_PER_MINUTE,
    bodyLimit: e.BODY_LIMIT_BYTES,
    logLevel: e.LOG_LEVEL,
    metricsHost: e.METRICS_HOST,
    concurrency: e.WORKER_CONCURRENCY,
    auditThreads: e.WORKER_AUDIT_THREADS,
    threadYoungMb: e.WORKER_THREAD_YOUNG_MB,
    dnsCacheMaxEntries: e.DNS_CACHE_MAX_ENTRIES,
    dnsTransport: e.DNS_TRANSPORT,
    lockMs: e.WORKER_LOCK_MS,
    auditTimeoutMs: e.AUDIT_TIMEOUT_MS,
    sweepIntervalMs: e.SWEEP_INTERVAL_MS,
    sweepAfterMs: e.SWEEP_AFTER_MS,
    outageMinAudits: e.OUTAGE_MIN_AUDITS,
    outageSharePercent: e.OUTAGE_SHARE_PERCENT,
    nightRetryWindowMs: e.NIGHT_RETRY_WINDOW_MS,
    nightRetryBackoffMs: e.NIGHT_RETRY_BACKOFF_MS,
    resolverCheckTtlMs: e.RESOLVER_CHECK_TTL_MS,
    probeShare: e.PROBE_SHARE,
    probeCacheTtlMs: e.PROBE_CACHE_TTL_MS,
    probeCacheUnknownTtlMs: e.PROBE_CACHE_UNKNOWN_TTL_MS,
    probeLockMs: e.PROBE_LOCK_MS,
    probePerAddress: e.PROBE_PER_ADDRESS,
    resolvers: e.MAILAUDIT_RESOLVERS ?? [],
    allowPrivateTargets: e.MAILAUDIT_ALLOW_PRIVATE_TARGETS,
    mailFrom: e.MAIL_FROM,
  };
  if (e.METRICS_PORT !== undefined) config.metricsPort = e.METRICS_PORT;
  if (e.MAILAUDIT_DKIM_SELECTORS?.length) config.dkimSelectors = e.MAILAUDIT_DKIM_SELECTORS;
  if (e.MAILAUDIT_IP_BLOCKLISTS?.length) config.ipBlocklists = e.MAILAUDIT_IP_BLOCKLISTS;
  if (e.MAILAUDIT_DOMAIN_BLOCKLISTS?.length) config.domainBlocklists = e.MAILAUDIT_DOMAIN_BLOCKLISTS;
  if (e.MAILAUDIT_CA_FILE) config.caFile = e.MAILAUDIT_CA_FILE;
  if (e.SMTP_URL) config.smtpUrl = e.SMTP_URL;
  if (e.OPERATOR_EMAIL) config.operatorEmail = e.OPERATOR_EMAIL;
  if (e.REPORT_LINK_SECRET) config.reportLinkSecret = e.REPORT_LINK_SECRET;
  if (e.INBOUND_DOMAIN) config.inboundDomain = e.INBOUND_DOMAIN;
  return config;
}

/** The configuration of `mailaudit inbound`: the whole one, and the receiver's, whose domain and certificate are required. */
export function toInboundConfig(raw: RawEnv): Config & { inbound: InboundSettings } {
  const missing = (['INBOUND_DOMAIN', 'INBOUND_TLS_CERT', 'INBOUND_TLS_KEY'] as const)
    .filter((n) => !raw[n])
    .map((n): [EnvName, string] => [
      n,
      `${n} is required for mailaudit inbound (see the README's configuration table)`,
    ]);
  const e = decode(Env, raw, (env) => [...linkProblems(env), ...missing]);
  const config = configOf(e);
  const domain = e.INBOUND_DOMAIN as string;
  return {
    ...config,
    inbound: {
      domain,
      hostname: e.INBOUND_HOSTNAME ?? domain,
      host: e.INBOUND_HOST,
      port: e.INBOUND_PORT,
      tlsCertFile: e.INBOUND_TLS_CERT as string,
      tlsKeyFile: e.INBOUND_TLS_KEY as string,
      maxMessageBytes: e.INBOUND_MAX_MESSAGE_BYTES,
      maxConnections: e.INBOUND_MAX_CONNECTIONS,
      maxConnectionsPerAddress: e.INBOUND_MAX_CONNECTIONS_PER_IP,
      maxRecipients: 5,
      idleTimeoutMs: e.INBOUND_IDLE_TIMEOUT_MS,
      sessionTimeoutMs: e.INBOUND_SESSION_TIMEOUT_MS,
      analysisTimeoutMs: 30_000,
    },
  };
}
