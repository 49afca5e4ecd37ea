-- Per organization and mode: require user verification (biometrics/PIN) for passkeys.
-- Existing organizations keep today's behaviour (preferred, not required).
ALTER TABLE "organization_settings" ADD COLUMN "webauthn_require_uv" BOOLEAN NOT NULL DEFAULT false;
