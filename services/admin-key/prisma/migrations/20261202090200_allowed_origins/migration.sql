-- Browser origins allowed to call the consumer API (seed 000) with the organization's publishable
-- key, per (organization, mode). Empty by default: existing organizations allow no cross-origin
-- page until their secret key (or the operator) lists one.
ALTER TABLE "organization_settings" ADD COLUMN "allowed_origins" TEXT[] NOT NULL DEFAULT ARRAY[]::TEXT[];
