-- Branding per tenant (issue 13): what its customers see on pages and in emails instead of our
-- name. Null: not set (the tenant's own name stands for the product name).
alter table tenants
  add column brand_product_name text check (length(brand_product_name) between 1 and 100),
  -- A data: URL of a PNG, JPEG, WebP or SVG image (pages show it under a CSP that allows data: images only).
  add column brand_logo text check (length(brand_logo) <= 140000 and brand_logo ~ '^data:image/(png|jpeg|webp|svg\+xml);base64,[A-Za-z0-9+/=]+$'),
  add column brand_accent text check (brand_accent ~ '^#[0-9a-fA-F]{6}$'),
  add column brand_sender_name text check (length(brand_sender_name) between 1 and 100),
  add column brand_sender_address text check (length(brand_sender_address) between 3 and 254),
  add column brand_footer text check (length(brand_footer) between 1 and 500),
  add column brand_support_url text check (brand_support_url ~ '^https?://' and length(brand_support_url) <= 2000);
