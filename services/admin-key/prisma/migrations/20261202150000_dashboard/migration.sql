-- The web console (/dashboard): server-side sessions and the audit log of console changes.

-- A signed-in console user. The cookie holds a random token; only its SHA-256 is stored here.
-- principal_kind "operator" (all organizations) or "orgAdmin" (organization_id set: that one only).
CREATE TABLE "dashboard_sessions" (
    "id" TEXT NOT NULL,
    "token_hash" TEXT NOT NULL,
    "principal_kind" TEXT NOT NULL,
    "principal_id" TEXT NOT NULL,
    "principal_label" TEXT NOT NULL,
    "organization_id" TEXT,
    "ip" TEXT,
    "user_agent" TEXT,
    "created_at" TIMESTAMPTZ(6) NOT NULL DEFAULT CURRENT_TIMESTAMP,
    "last_seen_at" TIMESTAMPTZ(6) NOT NULL DEFAULT CURRENT_TIMESTAMP,
    "expires_at" TIMESTAMPTZ(6) NOT NULL,
    "revoked_at" TIMESTAMPTZ(6),

    CONSTRAINT "dashboard_sessions_pkey" PRIMARY KEY ("id")
);
CREATE UNIQUE INDEX "dashboard_sessions_token_hash_key" ON "dashboard_sessions"("token_hash");
CREATE INDEX "dashboard_sessions_expires_at_idx" ON "dashboard_sessions"("expires_at");

-- Every change made through the console (who, what, when). Never a secret in "details".
CREATE TABLE "dashboard_audit_events" (
    "id" TEXT NOT NULL,
    "at" TIMESTAMPTZ(6) NOT NULL DEFAULT CURRENT_TIMESTAMP,
    "actor_kind" TEXT NOT NULL,
    "actor_id" TEXT NOT NULL,
    "actor_label" TEXT NOT NULL,
    "organization_id" TEXT,
    "mode" TEXT,
    "action" TEXT NOT NULL,
    "target" TEXT,
    "details" JSONB NOT NULL DEFAULT '{}',
    "ip" TEXT,

    CONSTRAINT "dashboard_audit_events_pkey" PRIMARY KEY ("id")
);
CREATE INDEX "dashboard_audit_events_at_idx" ON "dashboard_audit_events"("at");
CREATE INDEX "dashboard_audit_events_organization_id_at_idx" ON "dashboard_audit_events"("organization_id", "at");
