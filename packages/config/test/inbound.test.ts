/**
 * The receiver's configuration (`mailaudit inbound`): what it requires, its defaults, and a clear
 * error naming each bad variable.
 */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { ConfigError, readEnv, toConfig, toInboundConfig } from '../src/index.js';

const base = {
  DATABASE_URL: 'postgres://db/x',
  REDIS_URL: 'redis://r',
  INBOUND_DOMAIN: 'Check.Example.NET.',
  INBOUND_TLS_CERT: '/etc/mailaudit/in.crt',
  INBOUND_TLS_KEY: '/etc/mailaudit/in.key',
  MAILAUDIT_RESOLVERS: '127.0.0.1',
};

describe('inbound configuration', () => {
  it('fills the defaults; the API sees the inbound domain too', () => {
    const c = toInboundConfig(readEnv(base));
    assert.deepEqual(c.inbound, {
      domain: 'check.example.net',
      hostname: 'check.example.net',
      host: '127.0.0.1',
      port: 25,
      tlsCertFile: '/etc/mailaudit/in.crt',
      tlsKeyFile: '/etc/mailaudit/in.key',
      maxMessageBytes: 5 * 2 ** 20,
      maxConnections: 40,
      maxConnectionsPerAddress: 3,
      maxRecipients: 5,
      idleTimeoutMs: 30_000,
      sessionTimeoutMs: 300_000,
      analysisTimeoutMs: 30_000,
    });
    assert.equal(toConfig(readEnv(base)).inboundDomain, 'check.example.net');
    assert.equal(toConfig(readEnv({ ...base, INBOUND_DOMAIN: undefined })).inboundDomain, undefined);
  });

  it('requires the inbound domain and the certificate, naming each missing one', () => {
    assert.throws(
      () => toInboundConfig(readEnv({ ...base, INBOUND_DOMAIN: undefined, INBOUND_TLS_KEY: undefined })),
      (err: Error) =>
        err instanceof ConfigError &&
        /INBOUND_DOMAIN is required for mailaudit inbound/.test(err.message) &&
        /INBOUND_TLS_KEY is required/.test(err.message) &&
        !/INBOUND_TLS_CERT/.test(err.message),
    );
  });

  it('holds the receiver to the rule of SMTP_URL too, in the same one line', () => {
    assert.throws(
      () => toInboundConfig(readEnv({ ...base, INBOUND_TLS_KEY: undefined, SMTP_URL: 'smtp://relay.example' })),
      (err: Error) =>
        err instanceof ConfigError &&
        /^PUBLIC_URL is required when SMTP_URL is set: .*; REPORT_LINK_SECRET is required when SMTP_URL is set .*; INBOUND_TLS_KEY is required for mailaudit inbound/.test(
          err.message,
        ),
    );
  });

  it('says what is wrong with a bad value', () => {
    const bad: [Record<string, string>, RegExp][] = [
      [{ INBOUND_DOMAIN: 'not a domain' }, /INBOUND_DOMAIN must be .*white space/],
      [{ INBOUND_HOSTNAME: 'bad..name' }, /INBOUND_HOSTNAME must be .*empty label/],
      [{ INBOUND_HOST: 'mx.example' }, /INBOUND_HOST must be an IP address to listen on/],
      [{ INBOUND_PORT: '99999' }, /INBOUND_PORT must be a whole number from 0 to 65535/],
      [{ INBOUND_MAX_MESSAGE_BYTES: '10' }, /INBOUND_MAX_MESSAGE_BYTES must be a whole number from 4096/],
      [{ INBOUND_SESSION_TIMEOUT_MS: 'soon' }, /INBOUND_SESSION_TIMEOUT_MS/],
    ];
    for (const [over, pattern] of bad) {
      assert.throws(() => toInboundConfig(readEnv({ ...base, ...over })), pattern);
    }
  });
});
