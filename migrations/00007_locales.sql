-- Languages (issue 13): the tenant's default locale for its pages and emails, and each recipient's
-- own (address -> locale), which wins over the tenant's for that recipient's emails. The locales
-- are those @mailaudit/catalog speaks.
alter table tenants add column locale text not null default 'en' check (locale in ('en', 'tr'));

alter table domains add column recipient_locales jsonb not null default '{}'::jsonb
  check (jsonb_typeof(recipient_locales) = 'object');
