-- A night's audits not yet ended are counted from the audits (issue 16): the run's `pending`
-- counter, which every audit of a night decremented in its own transaction, was one row locked
-- by all of them in turn until each committed, and so set the pace of the whole night.
create index audits_open_by_run on audits (nightly_run_id) where status in ('queued', 'running');
drop index nightly_runs_running;
alter table nightly_runs drop column pending;
