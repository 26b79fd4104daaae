import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { localNight } from '../src/processors/nightly.js';
import { signingSecrets, signWebhook } from '../src/processors/notify.js';

describe('nightly helpers', () => {
  it("keys a night by the tenant's local date", () => {
    const at = new Date('2026-12-01T23:30:00Z');
    assert.equal(localNight(at, 'UTC'), '2026-12-01');
    assert.equal(localNight(at, 'Europe/Paris'), '2026-12-02');
    assert.equal(localNight(at, 'America/New_York'), '2026-12-01');
  });

  it('signs webhooks as Standard Webhooks do: v1, base64 HMAC-SHA256 of "<id>.<timestamp>.<body>"', () => {
    // The specification's example; the second signature computed independently with
    // `printf 'msg_….1614265330.{…}' | openssl dgst -sha256 -mac HMAC -macopt hexkey:… -binary | base64`.
    const id = 'msg_p5jXN8AQM9LWM0D4loKWxJek';
    const body = '{"test": 2432232314}';
    assert.equal(
      signWebhook(['whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw'], id, 1_614_265_330, body),
      'v1,g0hM9SsE+OTPJTGt/tmIKtSyZlE3uFJELVlNIOLJ1OE=',
    );
    assert.equal(
      signWebhook(
        ['whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw', 'whsec_c2Vjb25kIHNlY3JldCBieXRlcyBoZXJl'],
        id,
        1_614_265_330,
        body,
      ),
      'v1,g0hM9SsE+OTPJTGt/tmIKtSyZlE3uFJELVlNIOLJ1OE= v1,mlSARKgtt6DhdG+bdi7YxFjLvxetHPevNUdfbXJrqBw=',
    );
  });

  it('signs with a rotated-out secret only until its time is up', () => {
    const s = {
      webhookSecret: 'whsec_new',
      webhookPreviousSecret: 'whsec_old',
      webhookPreviousUntil: new Date('2026-12-02T12:00:00Z'),
    };
    assert.deepEqual(signingSecrets(s, new Date('2026-12-02T11:59:59Z')), ['whsec_new', 'whsec_old']);
    assert.deepEqual(signingSecrets(s, new Date('2026-12-02T12:00:00Z')), ['whsec_new']);
    assert.deepEqual(signingSecrets({ ...s, webhookPreviousSecret: null }, new Date(0)), ['whsec_new']);
  });
});
