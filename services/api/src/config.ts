/**
 * The API's configuration, in two steps: readEnv() takes the variables, toConfig() checks them and
 * fills the defaults. Only this file (and the CLI) reads process.env.
 */
export interface ApiEnv {
  DATABASE_URL?: string;
  DATABASE_SCHEMA?: string;
  REDIS_URL?: string;
  REDIS_PREFIX?: string;
  PORT?: string;
  HOST?: string;
  PUBLIC_URL?: string;
  RATE_LIMIT_PER_MINUTE?: string;
  BODY_LIMIT_BYTES?: string;
  LOG_LEVEL?: string;
  MAILAUDIT_ALLOW_PRIVATE_TARGETS?: string;
  REPORT_LINK_SECRET?: string;
}

export interface ApiConfig {
  databaseUrl: string;
  /** @default 'public' */
  databaseSchema: string;
  redisUrl: string;
  /** Prefix of every Redis key (queues, rate limits, metrics). @default 'mailaudit' */
  redisPrefix: string;
  /** @default 3000 */
  port: number;
  /** @default '127.0.0.1' */
  host: string;
  /** Base of links in emails and Location headers; @default `http://<host>:<port>` */
  publicUrl: string;
  /** Requests per minute per API key. @default 600 */
  rateLimitPerMinute: number;
  /** Largest request body. @default 262144 */
  bodyLimit: number;
  /** pino level, or 'silent'. @default 'info' */
  logLevel: string;
  /** Webhook URLs may name private addresses (MAILAUDIT_ALLOW_PRIVATE_TARGETS=1). @default false */
  allowPrivateTargets: boolean;
  /** Secret of the keyless report links in emails (/r/:id?t=…), shared with the workers; unset: no such links. */
  reportLinkSecret?: string;
}

export class ConfigError extends Error {}

export function readEnv(env: NodeJS.ProcessEnv = process.env): ApiEnv {
  const keys: (keyof ApiEnv)[] = [
    'DATABASE_URL',
    'DATABASE_SCHEMA',
    'REDIS_URL',
    'REDIS_PREFIX',
    'PORT',
    'HOST',
    'PUBLIC_URL',
    'RATE_LIMIT_PER_MINUTE',
    'BODY_LIMIT_BYTES',
    'LOG_LEVEL',
    'MAILAUDIT_ALLOW_PRIVATE_TARGETS',
    'REPORT_LINK_SECRET',
  ];
  return Object.fromEntries(
    keys.filter((k) => env[k] !== undefined && env[k] !== '').map((k) => [k, env[k]]),
  ) as ApiEnv;
}

export function intVar(name: string, value: string | undefined, fallback: number, min: number, max: number): number {
  if (value === undefined) return fallback;
  if (!/^\d+$/.test(value) || Number(value) < min || Number(value) > max) {
    throw new ConfigError(`${name} must be a whole number from ${min} to ${max}, not ${JSON.stringify(value)}`);
  }
  return Number(value);
}

export function required(name: string, value: string | undefined): string {
  if (!value) throw new ConfigError(`${name} is required (see the README's configuration table)`);
  return value;
}

export function toConfig(env: ApiEnv): ApiConfig {
  const port = intVar('PORT', env.PORT, 3000, 0, 65535);
  const host = env.HOST ?? '127.0.0.1';
  const schema = env.DATABASE_SCHEMA ?? 'public';
  if (!/^[a-z_][a-z0-9_]{0,62}$/.test(schema))
    throw new ConfigError('DATABASE_SCHEMA must be a plain lower-case identifier');
  const publicUrl = (env.PUBLIC_URL ?? `http://${host}:${port}`).replace(/\/$/, '');
  try {
    new URL(publicUrl);
  } catch {
    throw new ConfigError(`PUBLIC_URL ${JSON.stringify(publicUrl)} is not a URL`);
  }
  return {
    databaseUrl: required('DATABASE_URL', env.DATABASE_URL),
    databaseSchema: schema,
    redisUrl: required('REDIS_URL', env.REDIS_URL),
    redisPrefix: env.REDIS_PREFIX ?? 'mailaudit',
    port,
    host,
    publicUrl,
    rateLimitPerMinute: intVar('RATE_LIMIT_PER_MINUTE', env.RATE_LIMIT_PER_MINUTE, 600, 1, 1_000_000),
    bodyLimit: intVar('BODY_LIMIT_BYTES', env.BODY_LIMIT_BYTES, 262_144, 1024, 16 * 2 ** 20),
    logLevel: env.LOG_LEVEL ?? 'info',
    allowPrivateTargets: env.MAILAUDIT_ALLOW_PRIVATE_TARGETS === '1',
    ...reportLinkSecret(env.REPORT_LINK_SECRET),
  };
}

export function reportLinkSecret(value: string | undefined): { reportLinkSecret?: string } {
  if (value === undefined) return {};
  if (value.length < 16) throw new ConfigError('REPORT_LINK_SECRET must be at least 16 characters');
  return { reportLinkSecret: value };
}
