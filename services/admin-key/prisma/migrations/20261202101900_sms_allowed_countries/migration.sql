-- SMS destination countries (ISO 3166-1 alpha-2) per (organization, mode) for OTP codes (SMS
-- pumping). Empty by default: every country, bounded by consumer-auth's SMS ceilings.
ALTER TABLE "organization_settings" ADD COLUMN "sms_allowed_countries" TEXT[] NOT NULL DEFAULT ARRAY[]::TEXT[];
