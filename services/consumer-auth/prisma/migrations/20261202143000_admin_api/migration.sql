-- Issue 14: the Admin API (consumers, their sessions, sign-ins per day by method).

-- How each session was signed in. `type` says otp but not by which channel; `method` does.
ALTER TABLE "sessions" ADD COLUMN "method" TEXT;

-- Existing sessions: guest and external as their type; an OTP session by the channel its consumer
-- has (a phone and no email: SMS; otherwise email, the only other OTP channel).
UPDATE "sessions" s
SET "method" = CASE
    WHEN s."type" = 'guest' THEN 'guest'
    WHEN s."type" = 'external' THEN 'external'
    WHEN c."phone" IS NOT NULL AND c."email" IS NULL THEN 'phone_otp'
    ELSE 'email_otp'
  END
FROM "consumers" c
WHERE c."id" = s."consumer_id";

ALTER TABLE "sessions" ALTER COLUMN "method" SET NOT NULL;
ALTER TABLE "sessions" ADD CONSTRAINT "sessions_method_check" CHECK ("method" IN ('guest', 'email_otp', 'phone_otp', 'external'));

-- Sign-ins per day of one organization and mode (index-only), and its live sessions.
CREATE INDEX "sessions_org_mode_created_idx" ON "sessions" ("organization_id", "mode", "created_at") INCLUDE ("method");

-- The consumer list, newest first (keyset pagination on created_at, id).
CREATE INDEX "consumers_org_mode_created_idx" ON "consumers" ("organization_id", "mode", "created_at" DESC, "id" DESC);
-- Search by email: case-insensitive exact match and prefix (LIKE 'abc%'); the phone search uses
-- the unique (organization_id, mode, phone) index.
CREATE INDEX "consumers_org_mode_email_lower_idx" ON "consumers" ("organization_id", "mode", lower("email") text_pattern_ops)
  WHERE "email" IS NOT NULL;

-- Sign-ins of sessions the retention pruner deleted, per UTC day and method: the pruner adds a
-- session here in the statement that deletes it, so the daily numbers outlive the rows.
CREATE TABLE "pruned_sign_ins" (
  "organization_id" TEXT NOT NULL,
  "mode" TEXT NOT NULL,
  "day" DATE NOT NULL,
  "method" TEXT NOT NULL,
  "count" BIGINT NOT NULL,
  CONSTRAINT "pruned_sign_ins_pkey" PRIMARY KEY ("organization_id", "mode", "day", "method")
);
