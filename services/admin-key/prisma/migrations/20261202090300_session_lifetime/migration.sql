-- Absolute lifetime of a consumer session (per organization and mode): refresh never extends a
-- session past sign-in + this. Existing organizations get the default (30 days).
ALTER TABLE "organization_settings" ADD COLUMN "session_lifetime_seconds" INTEGER NOT NULL DEFAULT 2592000;
