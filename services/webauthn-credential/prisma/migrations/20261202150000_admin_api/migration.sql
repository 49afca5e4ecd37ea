-- Admin API (issue 14). Successful passkey sign-ins per UTC day, per organization and mode: the
-- credentials table keeps only the last use (last_used_at), so each verified assertion adds 1
-- here in the same transaction that stores its counter and its outbox event.
CREATE TABLE "passkey_daily_stats" (
  "organization_id" TEXT NOT NULL,
  "mode" TEXT NOT NULL,
  "day" DATE NOT NULL,
  "verifications" INTEGER NOT NULL DEFAULT 0,
  CONSTRAINT "passkey_daily_stats_pkey" PRIMARY KEY ("organization_id", "mode", "day")
);

-- The sign-ins before this migration that the outbox still holds (the relay deletes published
-- rows after 24 hours): counted from their passkeys.v1.authenticated events.
INSERT INTO "passkey_daily_stats" ("organization_id", "mode", "day", "verifications")
SELECT "payload"->>'organizationId', "payload"->>'mode', (("payload"->>'occurredAt')::timestamptz AT TIME ZONE 'UTC')::date, count(*)::int
  FROM "outbox_events"
 WHERE "type" = 'passkeys.v1.authenticated' AND "payload"->>'organizationId' IS NOT NULL AND "payload"->>'mode' IS NOT NULL
 GROUP BY 1, 2, 3;

-- The admin list (newest first by id, a ULID) and the per-day registrations (created_at).
CREATE INDEX "credentials_org_mode_id_idx" ON "credentials" ("organization_id", "mode", "id");
CREATE INDEX "credentials_org_mode_created_at_idx" ON "credentials" ("organization_id", "mode", "created_at");
