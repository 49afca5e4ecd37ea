-- Credentials (passkeys), scoped by organization and mode.
CREATE TABLE "credentials" (
  "id" TEXT NOT NULL,
  "organization_id" TEXT NOT NULL,
  "mode" TEXT NOT NULL,
  "webauthn_id" TEXT NOT NULL,
  "public_key" BYTEA NOT NULL,
  "sign_count" BIGINT NOT NULL DEFAULT 0,
  "aaguid" TEXT NOT NULL,
  "name" TEXT NOT NULL,
  "is_active" BOOLEAN NOT NULL DEFAULT true,
  "is_backup_eligible" BOOLEAN NOT NULL,
  "is_backed_up" BOOLEAN NOT NULL,
  "is_uv_initialized" BOOLEAN NOT NULL,
  "transports" TEXT[],
  "user_id" TEXT NOT NULL,
  "user_handle" TEXT,
  "created_at" TIMESTAMPTZ(6) NOT NULL DEFAULT now(),
  "last_used_at" TIMESTAMPTZ(6),
  CONSTRAINT "credentials_pkey" PRIMARY KEY ("id")
);
CREATE UNIQUE INDEX "credentials_org_mode_webauthn_id_key" ON "credentials" ("organization_id", "mode", "webauthn_id");
CREATE INDEX "credentials_org_mode_user_id_idx" ON "credentials" ("organization_id", "mode", "user_id");
CREATE INDEX "credentials_org_mode_user_handle_idx" ON "credentials" ("organization_id", "mode", "user_handle");

-- Sign-ins refused because a non-zero signature counter went backwards.
CREATE TABLE "counter_anomalies" (
  "id" TEXT NOT NULL,
  "credential_id" TEXT NOT NULL,
  "organization_id" TEXT NOT NULL,
  "mode" TEXT NOT NULL,
  "stored_count" BIGINT NOT NULL,
  "received_count" BIGINT NOT NULL,
  "created_at" TIMESTAMPTZ(6) NOT NULL DEFAULT now(),
  CONSTRAINT "counter_anomalies_pkey" PRIMARY KEY ("id")
);
CREATE INDEX "counter_anomalies_credential_id_idx" ON "counter_anomalies" ("credential_id");

CREATE TABLE "outbox_events" (
  "id" TEXT PRIMARY KEY,
  "type" TEXT NOT NULL,
  "payload" JSONB NOT NULL,
  "created_at" TIMESTAMPTZ NOT NULL DEFAULT now(),
  "published_at" TIMESTAMPTZ
);
CREATE INDEX "outbox_events_unpublished" ON "outbox_events" ("created_at") WHERE "published_at" IS NULL;
