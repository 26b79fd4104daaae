-- A tenant's audits waiting or running, counted at every POST /v1/audits (its quota and the rank of
-- its new jobs): an index over the pending rows only, so the count reads no finished audit.
create index audits_tenant_pending on audits (tenant_id) where status in ('queued', 'running');
