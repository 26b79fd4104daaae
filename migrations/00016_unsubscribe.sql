-- One-click unsubscribe (RFC 8058, issue 13): the addresses that asked to receive no more of a
-- tenant's summaries and alerts, whatever domain they are a recipient of. Recipients are stored
-- as given, so an address is matched here without regard to case.
create table email_opt_outs (
  tenant_id uuid not null references tenants (id) on delete cascade,
  address text not null check (length(address) between 3 and 320),
  created_at timestamptz not null default now()
);
create unique index email_opt_outs_address on email_opt_outs (tenant_id, lower(address));

-- The List-Unsubscribe URL of an email (null: it has none, as emails recorded before this).
alter table emails add column list_unsubscribe text;
