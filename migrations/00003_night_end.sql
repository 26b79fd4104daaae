-- A night ends when its last audit ends: each run counts its audits not yet ended (done or
-- failed), and the audit whose end brings the count to 0 ends the night.
alter table nightly_runs add column pending integer not null default 0;
update nightly_runs r set pending = (
  select count(*) from audits a where a.nightly_run_id = r.id and a.status in ('queued', 'running')
) where r.status = 'running';
create index nightly_runs_running on nightly_runs (pending) where status = 'running';

-- The webhook deliveries of a night's audits belong to that night, like its emails.
alter table webhook_deliveries add column nightly_run_id uuid references nightly_runs (id) on delete set null;
create index webhook_deliveries_nightly_run on webhook_deliveries (nightly_run_id) where nightly_run_id is not null;
