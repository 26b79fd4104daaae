-- Tenants, their API keys, registered domains, audits, reports with findings, idempotency keys.

create table tenants (
  id uuid primary key default gen_random_uuid(),
  name text not null check (length(name) between 1 and 200),
  created_at timestamptz not null default now()
);

-- Keys are stored as the SHA-256 of the whole key (256 random bits: no need for a slow hash);
-- the prefix identifies a key in lists and logs without revealing it.
create table api_keys (
  id uuid primary key default gen_random_uuid(),
  tenant_id uuid not null references tenants (id) on delete cascade,
  prefix text not null,
  hash text not null unique,
  scopes text[] not null check (scopes <@ array['read', 'audit', 'admin']::text[] and cardinality(scopes) > 0),
  created_at timestamptz not null default now(),
  last_used_at timestamptz,
  revoked_at timestamptz
);
create index api_keys_tenant on api_keys (tenant_id);

create table domains (
  tenant_id uuid not null references tenants (id) on delete cascade,
  domain text not null,
  nightly boolean not null default true,
  dkim_selectors text[] not null default '{}',
  extra_hosts text[] not null default '{}',
  recipients text[] not null default '{}',
  created_at timestamptz not null default now(),
  updated_at timestamptz not null default now(),
  primary key (tenant_id, domain)
);

create table audits (
  id uuid primary key default gen_random_uuid(),
  tenant_id uuid not null references tenants (id) on delete cascade,
  domain text not null,
  status text not null default 'queued' check (status in ('queued', 'running', 'done', 'failed')),
  source text not null default 'api' check (source in ('api', 'nightly')),
  options jsonb not null default '{}',
  attempts integer not null default 0,
  error text,
  created_at timestamptz not null default now(),
  updated_at timestamptz not null default now(),
  started_at timestamptz,
  finished_at timestamptz
);
create index audits_tenant_created on audits (tenant_id, created_at desc, id desc);
create index audits_tenant_domain on audits (tenant_id, domain, created_at desc);
create index audits_pending on audits (updated_at) where status in ('queued', 'running');

-- One report per audit, whatever happens to the worker that wrote it.
create table reports (
  id uuid primary key default gen_random_uuid(),
  audit_id uuid not null unique references audits (id) on delete cascade,
  tenant_id uuid not null references tenants (id) on delete cascade,
  domain text not null,
  score integer not null check (score between 0 and 100),
  grade text not null,
  scoring_version integer not null,
  report jsonb not null,
  created_at timestamptz not null default now()
);
create index reports_tenant_domain on reports (tenant_id, domain, created_at desc, id desc);

create table findings (
  report_id uuid not null references reports (id) on delete cascade,
  tenant_id uuid not null,
  domain text not null,
  code text not null,
  severity text not null,
  category text not null,
  subject text not null,
  params jsonb not null default '{}'
);
create index findings_report on findings (report_id);
create index findings_tenant_code on findings (tenant_id, code);

create table idempotency_keys (
  tenant_id uuid not null references tenants (id) on delete cascade,
  key text not null,
  request_hash text not null,
  status integer not null,
  body jsonb not null,
  created_at timestamptz not null default now(),
  primary key (tenant_id, key)
);
