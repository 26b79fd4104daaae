import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { localNight } from '../src/processors/nightly.js';
import { signWebhook } from '../src/processors/notify.js';

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
