-- Test messages (issue 15): unique addresses a customer sends a message to, and what each
-- message received there showed. No message body is ever stored: `result` holds the
-- mailaudit.message/1 analysis (From addresses, Date, Message-ID and the results), nothing else.

create table test_addresses (
  id uuid primary key default gen_random_uuid(),
  tenant_id uuid not null references tenants (id) on delete cascade,
  domain text not null,
  -- The local part of the address at INBOUND_DOMAIN: "t-" and 20 base32 characters (100 random bits).
  token text not null unique check (token ~ '^t-[a-z2-7]{20}$'),
  created_at timestamptz not null default now(),
  expires_at timestamptz not null,
  messages integer not null default 0
);
create index test_addresses_tenant_domain on test_addresses (tenant_id, domain, created_at desc);

create table message_tests (
  id uuid primary key default gen_random_uuid(),
  tenant_id uuid not null references tenants (id) on delete cascade,
  domain text not null,
  test_address_id uuid references test_addresses (id) on delete set null,
  received_at timestamptz not null default now(),
  client_ip text not null,
  helo text not null,
  mail_from text not null,
  header_from text,
  tls_version text,
  -- RFC 8601 results, for lists: SPF, the best DKIM result of the message, DMARC, ARC.
  spf text not null,
  dkim text not null,
  dmarc text not null,
  arc text not null,
  selectors_added text[] not null default '{}',
  result jsonb not null
);
create index message_tests_tenant_domain on message_tests (tenant_id, domain, received_at desc, id desc);

-- DKIM selectors seen signing the domain's test messages (passing signatures of the domain
-- itself): its audits look them up besides its declared selectors or the common list.
alter table domains add column dkim_selectors_found text[] not null default '{}';
