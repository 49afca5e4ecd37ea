-- Revocation survives the loss of Redis: Postgres is the record (sessions.revoked_at), and the
-- Redis revoked-session set is rebuilt from it. access_expires_at is the latest `exp` of any access
-- token issued for the session, i.e. how long a revoked session must stay in the Redis set.

ALTER TABLE "sessions" ADD COLUMN "access_expires_at" TIMESTAMPTZ(6);

-- Existing sessions: their last access token was issued at creation or at the last refresh.
UPDATE "sessions"
SET "access_expires_at" = COALESCE("last_refreshed_at", "created_at") + make_interval(secs => "access_token_ttl_seconds");

ALTER TABLE "sessions" ALTER COLUMN "access_expires_at" SET NOT NULL;

-- The rebuild reads only revoked sessions whose tokens may still be alive.
CREATE INDEX "sessions_revoked_access_expires_idx" ON "sessions" ("access_expires_at") WHERE "revoked_at" IS NOT NULL;
