-- Issue 9 item 6: a rotated-in key is published (JWKS) before it signs; a compromised key can be withdrawn.
ALTER TABLE "signing_keys" ADD COLUMN "activates_at" TIMESTAMPTZ(6);
ALTER TABLE "signing_keys" ADD COLUMN "withdrawn_at" TIMESTAMPTZ(6);
UPDATE "signing_keys" SET "activates_at" = "created_at";
ALTER TABLE "signing_keys" ALTER COLUMN "activates_at" SET NOT NULL;
ALTER TABLE "signing_keys" ALTER COLUMN "activates_at" SET DEFAULT CURRENT_TIMESTAMP;
