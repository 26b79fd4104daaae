-- Standard Webhooks (issue 14): the secret is `whsec_` and the standard base64 of the key's bytes,
-- and a rotated-out secret keeps signing (a second signature) until a stated time.

alter table tenants
  add column webhook_previous_secret text,
  add column webhook_previous_until timestamptz;

-- Secrets made before were `whsec_` and base64url of 24 random bytes: the same bytes in standard
-- base64, so that Standard Webhooks libraries decode them.
update tenants set webhook_secret = 'whsec_' || translate(substr(webhook_secret, 7), '-_', '+/')
  where webhook_secret like 'whsec\_%';
