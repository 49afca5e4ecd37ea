-- Settings per (organization, mode): live and test are separate worlds, so a test key must not
-- be able to change live token lifetimes or the live WebAuthn relying party.
-- Existing rows (one per organization) become the live settings, and a copy becomes the test
-- settings, so both modes start exactly where the organization was.

-- AlterTable
ALTER TABLE "organization_settings" ADD COLUMN "mode" TEXT NOT NULL DEFAULT 'live';

-- New primary key: (organization_id, mode).
ALTER TABLE "organization_settings" DROP CONSTRAINT "organization_settings_pkey";
ALTER TABLE "organization_settings" ADD CONSTRAINT "organization_settings_pkey" PRIMARY KEY ("organization_id", "mode");

-- Copy every organization's settings into the test mode.
INSERT INTO "organization_settings" ("organization_id", "mode", "access_token_ttl_seconds", "refresh_token_ttl_seconds", "webauthn_rp_id", "webauthn_rp_name", "webauthn_origins", "updated_at")
SELECT "organization_id", 'test', "access_token_ttl_seconds", "refresh_token_ttl_seconds", "webauthn_rp_id", "webauthn_rp_name", "webauthn_origins", "updated_at"
FROM "organization_settings" WHERE "mode" = 'live';

ALTER TABLE "organization_settings" ALTER COLUMN "mode" DROP DEFAULT;

-- Only the two modes (not expressible in Prisma's schema language).
ALTER TABLE "organization_settings" ADD CONSTRAINT "organization_settings_mode_check" CHECK ("mode" IN ('live', 'test'));
