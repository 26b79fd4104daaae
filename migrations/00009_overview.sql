-- The overview (issue 14): per (tenant, domain), the summary of its latest report, so that
-- GET /v1/domains and the tenant's overview page filter and sort thousands of domains without
-- reading a report body. Kept in step by the store when a report is stored (repos/reports.ts).

-- One report's summary, from its row and its findings' rows: used by the store to keep
-- domain_summaries in step and by the backfill below, so that both compute it the same way.
-- worst_rank: 0 critical, 1 warning, 2 notice, 3 info, 4 no finding.
-- fingerprint: what "changed" means: score, grade and the findings' (code, subject, severity).
create view report_summaries as
select
  r.id as report_id,
  r.tenant_id,
  r.domain,
  r.audit_id,
  r.created_at as audited_at,
  r.score,
  r.grade,
  r.report->>'outcome' as outcome,
  coalesce(min(case f.severity when 'critical' then 0 when 'warning' then 1 when 'notice' then 2 when 'info' then 3 end), 4)::smallint as worst_rank,
  (count(*) filter (where f.severity = 'critical'))::int as critical,
  (count(*) filter (where f.severity = 'warning'))::int as warning,
  (count(*) filter (where f.severity = 'notice'))::int as notice,
  (count(*) filter (where f.severity = 'info'))::int as info,
  coalesce(array_agg(distinct f.code) filter (where f.code is not null), '{}') as codes,
  coalesce(array_agg(distinct f.category) filter (where f.category is not null), '{}') as categories,
  md5(
    coalesce(r.score::text, '-') || '/' || coalesce(r.grade, '-') || '/' ||
    coalesce(string_agg(f.code || ' ' || f.subject || ' ' || f.severity, E'\n' order by f.code, f.subject, f.severity), '')
  ) as fingerprint
from reports r
left join findings f on f.report_id = r.id
group by r.id;

create table domain_summaries (
  tenant_id uuid not null references tenants (id) on delete cascade,
  domain text not null,
  -- The latest report, whatever its outcome.
  report_id uuid not null references reports (id) on delete cascade,
  audit_id uuid not null,
  audited_at timestamptz not null,
  score integer,
  grade text,
  outcome text,
  worst_rank smallint not null,
  critical integer not null,
  warning integer not null,
  notice integer not null,
  info integer not null,
  codes text[] not null,
  categories text[] not null,
  -- Of the latest conclusive report (an inconclusive audit is never compared with another):
  -- its fingerprint and score, the score of the conclusive report before it (the trend), and
  -- when the conclusive reports last changed (the "changed since" filter).
  fingerprint text,
  last_score integer,
  previous_score integer,
  changed_at timestamptz not null,
  primary key (tenant_id, domain)
);
create index domain_summaries_codes on domain_summaries using gin (codes);
create index domain_summaries_categories on domain_summaries using gin (categories);
create index domain_summaries_score on domain_summaries (tenant_id, score, domain);
create index domain_summaries_worst on domain_summaries (tenant_id, worst_rank, domain);
create index domain_summaries_audited on domain_summaries (tenant_id, audited_at, domain);
create index domain_summaries_changed on domain_summaries (tenant_id, changed_at, domain);
create index findings_report_code on findings (report_id, code);

-- The summaries of the reports stored before this migration.
with conclusive as (
  select s.*,
    lag(s.fingerprint) over w as prev_fingerprint,
    lag(s.score) over w as prev_score,
    row_number() over (partition by s.tenant_id, s.domain order by s.audited_at desc, s.report_id desc) as rn
  from report_summaries s
  where s.outcome is distinct from 'inconclusive'
  window w as (partition by s.tenant_id, s.domain order by s.audited_at, s.report_id)
), changed as (
  select tenant_id, domain, max(audited_at) as changed_at from conclusive
  where prev_fingerprint is distinct from fingerprint group by tenant_id, domain
), latest as (
  select distinct on (tenant_id, domain) * from report_summaries
  order by tenant_id, domain, audited_at desc, report_id desc
)
insert into domain_summaries (
  tenant_id, domain, report_id, audit_id, audited_at, score, grade, outcome, worst_rank,
  critical, warning, notice, info, codes, categories, fingerprint, last_score, previous_score, changed_at
)
select l.tenant_id, l.domain, l.report_id, l.audit_id, l.audited_at, l.score, l.grade, l.outcome, l.worst_rank,
  l.critical, l.warning, l.notice, l.info, l.codes, l.categories, c.fingerprint, c.score, c.prev_score,
  coalesce(ch.changed_at, l.audited_at)
from latest l
left join conclusive c on c.tenant_id = l.tenant_id and c.domain = l.domain and c.rn = 1
left join changed ch on ch.tenant_id = l.tenant_id and ch.domain = l.domain;
