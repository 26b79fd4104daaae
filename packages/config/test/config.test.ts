import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { describe, it } from 'node:test';
import { ConfigError, DEFAULT_AUDIT_TIMEOUT_MS, ENV_NAMES, readEnv, toConfig, toDatabaseConfig } from '../src/index.js';

const base = { DATABASE_URL: 'postgres://x/y', REDIS_URL: 'redis://x', MAILAUDIT_RESOLVERS: '127.0.0.1' };

describe('configuration', () => {
  it('fills defaults', () => {
    const c = toConfig(readEnv({ DATABASE_URL: 'postgres://x/y', REDIS_URL: 'redis://x' }));
    assert.deepEqual(
      [c.port, c.host, c.publicUrl, c.rateLimitPerMinute, c.redisPrefix, c.databaseSchema],
      [3000, '127.0.0.1', 'http://127.0.0.1:3000', 600, 'mailaudit', 'public'],
    );
    assert.deepEqual(
      [c.concurrency, c.lockMs, c.auditTimeoutMs, c.sweepIntervalMs, c.sweepAfterMs, c.logLevel],
      [4, 30_000, 60_000, 30_000, 120_000, 'info'],
    );
    assert.equal(c.auditTimeoutMs, DEFAULT_AUDIT_TIMEOUT_MS);
    assert.deepEqual(c.resolvers, [], "empty: the system's resolvers");
    assert.equal(c.allowPrivateTargets, false);
    assert.equal(c.mailFrom, 'mailaudit@localhost');
    assert.equal(c.metricsPort, undefined);
    assert.equal(c.metricsHost, '127.0.0.1');
  });

  it('derives the public URL from HOST and PORT, brackets an IPv6 host, and drops a trailing slash', () => {
    assert.equal(toConfig(readEnv({ ...base, HOST: '::1', PORT: '8080' })).publicUrl, 'http://[::1]:8080');
    assert.equal(
      toConfig(readEnv({ ...base, PUBLIC_URL: 'https://audit.example/' })).publicUrl,
      'https://audit.example',
    );
  });

  it('refuses what is missing or malformed, saying which variable', () => {
    assert.throws(
      () => toConfig(readEnv({ REDIS_URL: 'redis://x' })),
      (e: Error) => e instanceof ConfigError && /DATABASE_URL/.test(e.message),
    );
    assert.throws(() => toConfig(readEnv({ DATABASE_URL: 'p', REDIS_URL: 'r', PORT: 'eighty' })), /PORT/);
    assert.throws(
      () => toConfig(readEnv({ DATABASE_URL: 'p', REDIS_URL: 'r', PUBLIC_URL: 'not a url' })),
      /PUBLIC_URL/,
    );
    assert.throws(
      () => toConfig(readEnv({ DATABASE_URL: 'p', REDIS_URL: 'r', DATABASE_SCHEMA: 'x; drop' })),
      /DATABASE_SCHEMA/,
    );
  });

  it('names every bad variable in one line, and never echoes a secret', () => {
    const err = (() => {
      try {
        toConfig(readEnv({ ...base, PORT: '70000', WORKER_CONCURRENCY: '1.5', REPORT_LINK_SECRET: 'short-secret' }));
      } catch (e) {
        return e as Error;
      }
      return undefined;
    })();
    assert.ok(err instanceof ConfigError);
    assert.equal(
      err.message,
      'PORT must be a whole number from 0 to 65535, not "70000"; REPORT_LINK_SECRET must be at least 16 characters; ' +
        'WORKER_CONCURRENCY must be a whole number from 1 to 1000, not "1.5"',
    );
  });

  it('requires PUBLIC_URL and REPORT_LINK_SECRET with SMTP_URL, naming both and why, without echoing the URL', () => {
    const smtp = 'smtps://user:hunter2@relay.example:465';
    const err = (() => {
      try {
        toConfig(readEnv({ ...base, SMTP_URL: smtp, PORT: '8080' }));
      } catch (e) {
        return e as Error;
      }
      return undefined;
    })();
    assert.ok(err instanceof ConfigError);
    assert.equal(
      err.message,
      "PUBLIC_URL is required when SMTP_URL is set: the links in emails (report pages, the overview, one-click unsubscribe) must open on the API's public address, not on http://127.0.0.1:8080; " +
        'REPORT_LINK_SECRET is required when SMTP_URL is set (at least 16 characters, the same for the API and the workers): without it the links in emails need an API key to open and emails carry no one-click unsubscribe',
    );
    assert.ok(!err.message.includes('hunter2') && !err.message.includes(smtp));
    assert.equal(err.message.split('\n').length, 1, 'one line');
  });

  it('with SMTP_URL, names only what is missing, and a bad value once, beside the other complaints', () => {
    const secret = { REPORT_LINK_SECRET: 'a-secret-of-20-chars' };
    const url = { PUBLIC_URL: 'https://audit.example' };
    const smtp = { SMTP_URL: 'smtp://relay.example:587' };
    assert.throws(
      () => toConfig(readEnv({ ...base, ...smtp, ...secret })),
      (e: Error) =>
        e instanceof ConfigError &&
        /^PUBLIC_URL is required when SMTP_URL is set/.test(e.message) &&
        !/REPORT_LINK_SECRET/.test(e.message),
    );
    assert.throws(
      () => toConfig(readEnv({ ...base, ...smtp, ...url })),
      (e: Error) =>
        e instanceof ConfigError &&
        /^REPORT_LINK_SECRET is required when SMTP_URL is set/.test(e.message) &&
        !/PUBLIC_URL/.test(e.message),
    );
    assert.throws(
      () => toConfig(readEnv({ ...base, ...smtp, HOST: '::1', REPORT_LINK_SECRET: 'short' })),
      (e: Error) =>
        e.message ===
        "REPORT_LINK_SECRET must be at least 16 characters; PUBLIC_URL is required when SMTP_URL is set: the links in emails (report pages, the overview, one-click unsubscribe) must open on the API's public address, not on http://[::1]:3000",
    );
    assert.throws(
      () => toConfig(readEnv({ ...base, ...smtp, ...secret, PUBLIC_URL: 'ftp://x', WORKER_CONCURRENCY: '0' })),
      (e: Error) =>
        e.message ===
        'PUBLIC_URL must be an http:// or https:// URL, not "ftp://x"; WORKER_CONCURRENCY must be a whole number from 1 to 1000, not "0"',
    );
    const c = toConfig(readEnv({ ...base, ...smtp, ...secret, ...url }));
    assert.deepEqual(
      [c.smtpUrl, c.publicUrl, c.reportLinkSecret],
      ['smtp://relay.example:587', 'https://audit.example', 'a-secret-of-20-chars'],
    );
  });

  it('without SMTP_URL requires neither PUBLIC_URL nor REPORT_LINK_SECRET (no email goes out)', () => {
    const c = toConfig(readEnv(base));
    assert.equal(c.smtpUrl, undefined);
    assert.equal(c.reportLinkSecret, undefined);
    assert.equal(c.publicUrl, 'http://127.0.0.1:3000');
    assert.equal(
      toConfig(readEnv({ ...base, REPORT_LINK_SECRET: 'a-secret-of-20-chars' })).publicUrl,
      'http://127.0.0.1:3000',
    );
    assert.equal(toConfig(readEnv({ ...base, PUBLIC_URL: 'https://audit.example' })).reportLinkSecret, undefined);
    assert.equal(toConfig(readEnv({ ...base, SMTP_URL: '' })).smtpUrl, undefined, 'an empty SMTP_URL is unset');
  });

  it('reads the audit options of the contract', () => {
    const c = toConfig(
      readEnv({
        ...base,
        MAILAUDIT_RESOLVERS: '127.20.0.2, [::1]:5353',
        MAILAUDIT_DKIM_SELECTORS: 's1,s2',
        MAILAUDIT_IP_BLOCKLISTS: 'zen.example',
        MAILAUDIT_DOMAIN_BLOCKLISTS: 'DBL.Example.',
        MAILAUDIT_ALLOW_PRIVATE_TARGETS: '1',
        MAILAUDIT_CA_FILE: '/etc/ca.pem',
      }),
    );
    assert.deepEqual(c.resolvers, ['127.20.0.2', '[::1]:5353']);
    assert.deepEqual(c.dkimSelectors, ['s1', 's2']);
    assert.deepEqual(c.ipBlocklists, ['zen.example']);
    assert.deepEqual(c.domainBlocklists, ['dbl.example']);
    assert.equal(c.allowPrivateTargets, true);
    assert.equal(c.caFile, '/etc/ca.pem');
    assert.equal(c.concurrency, 4);
  });

  it('refuses bad values', () => {
    assert.throws(() => toConfig(readEnv({ ...base, MAILAUDIT_RESOLVERS: 'dns.example' })), ConfigError);
    assert.throws(() => toConfig(readEnv({ ...base, MAILAUDIT_ALLOW_PRIVATE_TARGETS: 'yes' })), ConfigError);
    assert.throws(() => toConfig(readEnv({ ...base, MAILAUDIT_ALLOW_PRIVATE_TARGETS: 'true' })), ConfigError);
    assert.throws(() => toConfig(readEnv({ ...base, WORKER_CONCURRENCY: '0' })), /WORKER_CONCURRENCY/);
    assert.throws(() => toConfig(readEnv({ ...base, MAILAUDIT_IP_BLOCKLISTS: 'bad zone' })), /MAILAUDIT_IP_BLOCKLISTS/);
    assert.throws(() => toConfig(readEnv({ ...base, SMTP_URL: 'nope' })), /SMTP_URL must be/);
    assert.throws(() => toConfig(readEnv({ ...base, MAILAUDIT_DKIM_SELECTORS: 'a b' })), /MAILAUDIT_DKIM_SELECTORS/);
    assert.throws(() => toConfig(readEnv({ ...base, LOG_LEVEL: 'loud' })), /LOG_LEVEL/);
  });

  it('takes only known variables, and an empty one as unset', () => {
    assert.deepEqual(readEnv({ PORT: '', HOME: '/root', LOG_LEVEL: 'warn' }), { LOG_LEVEL: 'warn' });
  });

  it('gives the database-only commands what they need, without Redis', () => {
    assert.deepEqual(toDatabaseConfig(readEnv({ DATABASE_URL: 'postgres://x/y', DATABASE_SCHEMA: 't_1' })), {
      databaseUrl: 'postgres://x/y',
      databaseSchema: 't_1',
    });
    assert.throws(() => toDatabaseConfig(readEnv({})), /DATABASE_URL is required/);
  });

  it('documents every variable in the README table and the deployment example', () => {
    const readme = readFileSync(new URL('../../../README.md', import.meta.url), 'utf8');
    const example = readFileSync(new URL('../../../infra/deploy/mailaudit.env.example', import.meta.url), 'utf8');
    for (const name of ENV_NAMES) {
      assert.ok(new RegExp(`^\\| \`${name}\``, 'm').test(readme), `README table lacks ${name}`);
      assert.ok(new RegExp(`^#? ?${name}=`, 'm').test(example), `mailaudit.env.example lacks ${name}`);
    }
  });
});
