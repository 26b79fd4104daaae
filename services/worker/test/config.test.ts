import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { ConfigError, readEnv, toConfig } from '../src/config.js';
import { localNight } from '../src/processors/nightly.js';
import { signWebhook } from '../src/processors/notify.js';

const base = { DATABASE_URL: 'postgres://x/y', REDIS_URL: 'redis://x', MAILAUDIT_RESOLVERS: '127.0.0.1' };

describe('worker configuration', () => {
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
    assert.deepEqual(c.domainBlocklists, ['dbl.example']);
    assert.equal(c.allowPrivateTargets, true);
    assert.equal(c.concurrency, 4);
  });

  it('refuses bad values', () => {
    assert.throws(() => toConfig(readEnv({ ...base, MAILAUDIT_RESOLVERS: 'dns.example' })), ConfigError);
    assert.throws(() => toConfig(readEnv({ ...base, MAILAUDIT_ALLOW_PRIVATE_TARGETS: 'yes' })), ConfigError);
    assert.throws(() => toConfig(readEnv({ ...base, WORKER_CONCURRENCY: '0' })), /WORKER_CONCURRENCY/);
    assert.throws(() => toConfig(readEnv({ ...base, MAILAUDIT_IP_BLOCKLISTS: 'bad zone' })), /MAILAUDIT_IP_BLOCKLISTS/);
    assert.throws(() => toConfig(readEnv({ ...base, SMTP_URL: 'nope' })), /SMTP_URL/);
  });
});

describe('nightly helpers', () => {
  it("keys a night by the tenant's local date", () => {
    const at = new Date('2026-12-01T23:30:00Z');
    assert.equal(localNight(at, 'UTC'), '2026-12-01');
    assert.equal(localNight(at, 'Europe/Paris'), '2026-12-02');
    assert.equal(localNight(at, 'America/New_York'), '2026-12-01');
  });

  it('signs webhooks with HMAC-SHA256 over "<timestamp>.<body>"', () => {
    // Known vector: computed independently with `printf '1700000000.{}' | openssl dgst -sha256 -hmac secret`.
    assert.equal(
      signWebhook('secret', 1_700_000_000, '{}'),
      't=1700000000,v1=b8569b78799ff9e3cbff0fc2d63a33a2b57f3282abd07c37ae5e8e7d79a5f163',
    );
  });
});
