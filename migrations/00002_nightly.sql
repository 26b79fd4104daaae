-- Nightly audits, change detection, emailed summaries and webhooks.

alter table tenants
  add column nightly_hour integer not null default 3 check (nightly_hour between 0 and 23),
  add column timezone text not null default 'UTC',
  add column nightly_window_minutes integer not null default 60 check (nightly_window_minutes between 0 and 720),
  add column summary_skip_unchanged boolean not null default false,
  add column webhook_url text,
  add column webhook_secret text;

-- One run per tenant and local night, whoever (scheduler, API, command) starts it.
create table nightly_runs (
  id uuid primary key default gen_random_uuid(),
  tenant_id uuid not null references tenants (id) on delete cascade,
  run_key text not null,
  trigger text not null check (trigger in ('schedule', 'api', 'command')),
  status text not null default 'running' check (status in ('running', 'done')),
  started_at timestamptz not null,
  finished_at timestamptz,
  audits integer not null default 0,
  unique (tenant_id, run_key)
);

alter table audits add column nightly_run_id uuid references nightly_runs (id) on delete set null;
create index audits_nightly_run on audits (nightly_run_id) where nightly_run_id is not null;

-- What changed between a domain's report and its previous one.
create table changes (
  id uuid primary key default gen_random_uuid(),
  tenant_id uuid not null references tenants (id) on delete cascade,
  domain text not null,
  report_id uuid not null unique references reports (id) on delete cascade,
  previous_report_id uuid references reports (id) on delete set null,
  nightly_run_id uuid references nightly_runs (id) on delete set null,
  regressed boolean not null,
  changed boolean not null,
  diff jsonb not null,
  created_at timestamptz not null default now()
);
create index changes_tenant_domain on changes (tenant_id, domain, created_at desc);

create table emails (
  id uuid primary key default gen_random_uuid(),
  tenant_id uuid not null references tenants (id) on delete cascade,
  nightly_run_id uuid references nightly_runs (id) on delete set null,
  kind text not null check (kind in ('summary', 'alert')),
  recipients text[] not null,
  subject text not null,
  text_body text not null,
  html_body text not null,
  status text not null default 'pending' check (status in ('pending', 'sent', 'failed', 'skipped')),
  attempts integer not null default 0,
  last_error text,
  created_at timestamptz not null default now(),
  sent_at timestamptz
);
create index emails_tenant on emails (tenant_id, created_at desc);

create table webhook_deliveries (
  id uuid primary key default gen_random_uuid(),
  tenant_id uuid not null references tenants (id) on delete cascade,
  event text not null,
  url text not null,
  payload jsonb not null,
  status text not null default 'pending' check (status in ('pending', 'delivered', 'failed')),
  attempts integer not null default 0,
  response_status integer,
  last_error text,
  created_at timestamptz not null default now(),
  delivered_at timestamptz
);
create index webhook_deliveries_tenant on webhook_deliveries (tenant_id, created_at desc, id desc);
