/**
 * Every environment variable of the service, as one TypeBox schema: what each accepts (a pattern
 * or a check on the text), its default written as it would be in the environment, and how its text
 * becomes a value (a codec). The README's configuration table and infra/deploy/mailaudit.env.example
 * list the same names (a test holds them to it).
 */
import { isIP } from 'node:net';
import { normalizeDomain, parseServer } from '@mailaudit/engine';
import { type StaticDecode, Type } from 'typebox';

/** pino's levels, and `silent`. */
export const LOG_LEVELS = ['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent'] as const;
export type LogLevel = (typeof LOG_LEVELS)[number];

/**
 * Deadline of one domain's audit, for the workers and `mailaudit audit` alike. 60 s: a deadline
 * turns what it cuts short into "could not check", and a slow but working mail host (5 s to
 * connect, 10 s to read, 10 s to handshake, four connections at once per address) can need more
 * than 30 s; it is also the engine's own default.
 */
export const DEFAULT_AUDIT_TIMEOUT_MS = 60_000;

interface Meta {
  /** What a valid value is, completing "<NAME> must be …". */
  description: string;
  /** The value is a secret (or may hold one, like a URL with a password): never echoed in errors. */
  sensitive?: boolean;
}

const items = (text: string) =>
  text
    .split(',')
    .map((s) => s.trim())
    .filter(Boolean);

/** The first item `check` throws on, with its message; undefined when all pass. */
function firstBad(text: string, check: (item: string) => unknown): string | undefined {
  for (const item of items(text)) {
    try {
      check(item);
    } catch (err) {
      return `${JSON.stringify(item)}: ${(err as Error).message}`;
    }
  }
  return undefined;
}

const text = (meta: Meta, extra: { default?: string; minLength?: number; pattern?: string } = {}) =>
  Type.String({ minLength: 1, ...meta, ...extra });

function wholeNumber(min: number, max: number, fallback?: number) {
  const description = `a whole number from ${min} to ${max}`;
  return Type.Codec(
    Type.Refine(
      Type.String({
        pattern: '^[0-9]{1,10}$',
        description,
        ...(fallback === undefined ? {} : { default: String(fallback) }),
      }),
      (s) => Number(s) >= min && Number(s) <= max,
      () => description,
    ),
  )
    .Decode((s) => Number(s))
    .Encode((n) => String(n));
}

function url(meta: Meta, protocols: string[]) {
  return Type.Refine(
    text(meta),
    (s) => URL.canParse(s) && protocols.includes(new URL(s).protocol),
    () => meta.description,
  );
}

/** A comma-separated list whose items `check` accepts (it throws on a bad one), decoded by `decode`. */
function list<T>(description: string, check: (item: string) => unknown, decode: (item: string) => T) {
  return Type.Codec(
    Type.Refine(
      Type.String({ description }),
      (s) => firstBad(s, check) === undefined,
      (s) => firstBad(s, check) ?? description,
    ),
  )
    .Decode((s) => items(s).map(decode))
    .Encode((v) => v.join(','));
}

const SELECTOR = /^[A-Za-z0-9][A-Za-z0-9._-]{0,62}$/;

/** A domain name, decoded to its ASCII lower-case form. */
function domain(description: string) {
  return Type.Codec(
    Type.Refine(
      Type.String({ description }),
      (s) => {
        try {
          normalizeDomain(s);
          return true;
        } catch {
          return false;
        }
      },
      (s) => {
        try {
          normalizeDomain(s);
          return description;
        } catch (err) {
          return (err as Error).message;
        }
      },
    ),
  )
    .Decode((s) => normalizeDomain(s))
    .Encode((s) => s);
}

const flag = Type.Codec(Type.Union([Type.Literal('1'), Type.Literal('0')], { default: '0', description: '1 or 0' }))
  .Decode((s) => s === '1')
  .Encode((b) => (b ? '1' : '0'));

/** The variables, by name. `Type.Optional` ones may be unset; a `default` fills them in. */
export const Env = Type.Object({
  DATABASE_URL: url({ description: 'a postgres:// URL', sensitive: true }, ['postgres:', 'postgresql:']),
  DATABASE_SCHEMA: text(
    { description: 'a plain lower-case identifier' },
    { default: 'public', pattern: '^[a-z_][a-z0-9_]{0,62}$' },
  ),
  REDIS_URL: url({ description: 'a redis:// or rediss:// URL', sensitive: true }, ['redis:', 'rediss:']),
  REDIS_PREFIX: text({ description: 'a key prefix without spaces' }, { default: 'mailaudit', pattern: '^\\S{1,100}$' }),
  PORT: wholeNumber(0, 65_535, 3000),
  HOST: text({ description: 'an address or host name to listen on' }, { default: '127.0.0.1' }),
  PUBLIC_URL: Type.Optional(url({ description: 'an http:// or https:// URL' }, ['http:', 'https:'])),
  RATE_LIMIT_PER_MINUTE: wholeNumber(1, 1_000_000, 600),
  TENANT_MAX_QUEUED_AUDITS: wholeNumber(1, 10_000_000, 10_000),
  AUTH_FAILURES_PER_MINUTE: wholeNumber(1, 1_000_000, 30),
  BODY_LIMIT_BYTES: wholeNumber(1024, 16 * 2 ** 20, 262_144),
  LOG_LEVEL: Type.Union(
    LOG_LEVELS.map((l) => Type.Literal(l)),
    { default: 'info', description: LOG_LEVELS.join(', ') },
  ),
  METRICS_PORT: Type.Optional(wholeNumber(0, 65_535)),
  METRICS_HOST: text({ description: 'an address to listen on' }, { default: '127.0.0.1' }),
  SMTP_URL: Type.Optional(
    url({ description: 'an smtp:// or smtps:// URL (smtp://host:port, smtps://user:pass@host)', sensitive: true }, [
      'smtp:',
      'smtps:',
    ]),
  ),
  MAIL_FROM: text({ description: 'an email address' }, { default: 'mailaudit@localhost' }),
  /** Signs the keyless links of emails: report pages, the overview page, the unsubscribe page. */
  REPORT_LINK_SECRET: Type.Optional(
    text({ description: 'at least 16 characters', sensitive: true }, { minLength: 16 }),
  ),
  MAILAUDIT_RESOLVERS: Type.Optional(list('comma-separated resolver addresses (ip or ip:port)', parseServer, (s) => s)),
  MAILAUDIT_DKIM_SELECTORS: Type.Optional(
    list(
      'comma-separated DKIM selectors',
      (s) => {
        if (!SELECTOR.test(s)) throw new Error('not a DKIM selector');
      },
      (s) => s,
    ),
  ),
  MAILAUDIT_IP_BLOCKLISTS: Type.Optional(list('comma-separated DNSBL zones', normalizeDomain, normalizeDomain)),
  MAILAUDIT_DOMAIN_BLOCKLISTS: Type.Optional(list('comma-separated DNSBL zones', normalizeDomain, normalizeDomain)),
  MAILAUDIT_CA_FILE: Type.Optional(text({ description: 'the path of a PEM file' })),
  MAILAUDIT_ALLOW_PRIVATE_TARGETS: flag,
  WORKER_CONCURRENCY: wholeNumber(1, 1000, 4),
  WORKER_AUDIT_THREADS: wholeNumber(0, 256, 0),
  WORKER_THREAD_YOUNG_MB: wholeNumber(0, 1024, 48),
  DNS_CACHE_MAX_ENTRIES: wholeNumber(100, 10_000_000, 10_000),
  DNS_TRANSPORT: Type.Union([Type.Literal('udp'), Type.Literal('tcp')], { default: 'udp', description: 'udp or tcp' }),
  WORKER_LOCK_MS: wholeNumber(1000, 3_600_000, 30_000),
  AUDIT_TIMEOUT_MS: wholeNumber(1000, 3_600_000, DEFAULT_AUDIT_TIMEOUT_MS),
  SWEEP_INTERVAL_MS: wholeNumber(500, 3_600_000, 30_000),
  SWEEP_AFTER_MS: wholeNumber(1000, 86_400_000, 120_000),
  OUTAGE_MIN_AUDITS: wholeNumber(1, 100_000, 3),
  OUTAGE_SHARE_PERCENT: wholeNumber(1, 100, 25),
  NIGHT_RETRY_WINDOW_MS: wholeNumber(0, 86_400_000, 4 * 3_600_000),
  NIGHT_RETRY_BACKOFF_MS: wholeNumber(100, 86_400_000, 300_000),
  RESOLVER_CHECK_TTL_MS: wholeNumber(0, 3_600_000, 30_000),
  PROBE_SHARE: Type.Codec(Type.Union([Type.Literal('1'), Type.Literal('0')], { default: '1', description: '1 or 0' }))
    .Decode((s) => s === '1')
    .Encode((b) => (b ? '1' : '0')),
  PROBE_CACHE_TTL_MS: wholeNumber(0, 86_400_000, 300_000),
  PROBE_CACHE_UNKNOWN_TTL_MS: wholeNumber(0, 600_000, 5000),
  PROBE_LOCK_MS: wholeNumber(1000, 600_000, 15_000),
  PROBE_PER_ADDRESS: wholeNumber(1, 1000, 4),
  OPERATOR_EMAIL: Type.Optional(text({ description: 'an email address' }, { pattern: '^[^@\\s]+@[^@\\s]+$' })),
  INBOUND_DOMAIN: Type.Optional(domain('a domain name')),
  INBOUND_HOSTNAME: Type.Optional(domain('a host name')),
  INBOUND_HOST: Type.Refine(
    text({ description: 'an IP address to listen on' }, { default: '127.0.0.1' }),
    (s) => isIP(s) !== 0,
    () => 'an IP address to listen on',
  ),
  INBOUND_PORT: wholeNumber(0, 65_535, 25),
  INBOUND_TLS_CERT: Type.Optional(text({ description: 'the path of a PEM file' })),
  INBOUND_TLS_KEY: Type.Optional(text({ description: 'the path of a PEM file' })),
  INBOUND_MAX_MESSAGE_BYTES: wholeNumber(4096, 50 * 2 ** 20, 5 * 2 ** 20),
  INBOUND_MAX_CONNECTIONS: wholeNumber(1, 10_000, 40),
  INBOUND_MAX_CONNECTIONS_PER_IP: wholeNumber(1, 1000, 3),
  INBOUND_IDLE_TIMEOUT_MS: wholeNumber(1000, 600_000, 30_000),
  INBOUND_SESSION_TIMEOUT_MS: wholeNumber(1000, 3_600_000, 300_000),
});

/** The variables the database-only commands need (migrate, tenant, key). */
export const DatabaseEnv = Type.Pick(Env, ['DATABASE_URL', 'DATABASE_SCHEMA']);

export type EnvName = keyof StaticDecode<typeof Env>;
export const ENV_NAMES = Object.keys(Env.properties) as EnvName[];
