-- Verdicts people can trust (issue 10): an audit's outcome, summaries sent once per address and
-- night, and nights that hold their summaries while the resolvers are failing.

-- An inconclusive report (the auditing side failed) has no score and no grade.
alter table reports
  alter column score drop not null,
  alter column grade drop not null,
  add column outcome text not null default 'complete' check (outcome in ('complete', 'partial', 'inconclusive'));
update reports set outcome = 'partial'
  where exists (select 1 from jsonb_array_elements(report->'categories') c where c->>'status' = 'error');
-- Comparisons look for the newest report with a verdict.
create index reports_conclusive on reports (tenant_id, domain, created_at desc, id desc) where outcome <> 'inconclusive';

-- A summary belongs to a night (the tenant's local date): a night mails each address once,
-- however many times it is run, unless a run is forced.
alter table emails add column night text;
create index emails_summary_night on emails (tenant_id, night) where kind = 'summary';

-- Outage mode: a run whose audits were largely inconclusive holds its summaries and retries those
-- audits later in its window (`retries` rounds so far, until `window_ends_at`).
alter table nightly_runs
  add column force boolean not null default false,
  add column retries integer not null default 0,
  add column held_since timestamptz,
  add column window_ends_at timestamptz;

-- One operator alert per incident (its key), whoever notices it first.
create table operator_alerts (
  id uuid primary key default gen_random_uuid(),
  key text not null unique,
  kind text not null,
  detail jsonb not null,
  created_at timestamptz not null default now()
);
