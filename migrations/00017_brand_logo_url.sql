-- Branding by URL (issue 13): the logo a tenant names by URL, fetched once through the engine's
-- guarded HTTP client (reserved addresses refused, size and type limited) and kept in brand_logo
-- as a data: URL beside the uploaded ones, so pages serve it from our own origin. Null: the logo,
-- if any, was uploaded.
alter table tenants
  add column brand_logo_url text check (brand_logo_url ~ '^https?://' and length(brand_logo_url) <= 2000),
  add column brand_logo_fetched_at timestamptz;
