-- consumer-auth: initial schema (hand-written to match prisma/schema.prisma).

CREATE TABLE "consumers" (
  "id" TEXT NOT NULL,
  "organization_id" TEXT NOT NULL,
  "mode" TEXT NOT NULL,
  "kind" TEXT NOT NULL,
  "email" TEXT,
  "phone" TEXT,
  "email_verified_at" TIMESTAMPTZ(6),
  "phone_verified_at" TIMESTAMPTZ(6),
  "created_at" TIMESTAMPTZ(6) NOT NULL DEFAULT CURRENT_TIMESTAMP,
  "upgraded_at" TIMESTAMPTZ(6),
  CONSTRAINT "consumers_pkey" PRIMARY KEY ("id")
);
CREATE UNIQUE INDEX "consumers_org_mode_email_key" ON "consumers" ("organization_id", "mode", "email");
CREATE UNIQUE INDEX "consumers_org_mode_phone_key" ON "consumers" ("organization_id", "mode", "phone");

CREATE TABLE "external_identities" (
  "id" TEXT NOT NULL,
  "organization_id" TEXT NOT NULL,
  "mode" TEXT NOT NULL,
  "provider" TEXT NOT NULL,
  "issuer" TEXT NOT NULL,
  "subject" TEXT NOT NULL,
  "consumer_id" TEXT NOT NULL,
  "claims" JSONB NOT NULL DEFAULT '{}',
  "created_at" TIMESTAMPTZ(6) NOT NULL DEFAULT CURRENT_TIMESTAMP,
  "updated_at" TIMESTAMPTZ(6) NOT NULL DEFAULT CURRENT_TIMESTAMP,
  CONSTRAINT "external_identities_pkey" PRIMARY KEY ("id")
);
CREATE UNIQUE INDEX "external_identities_subject_key" ON "external_identities" ("organization_id", "mode", "provider", "issuer", "subject");
CREATE INDEX "external_identities_consumer_idx" ON "external_identities" ("consumer_id");
ALTER TABLE "external_identities" ADD CONSTRAINT "external_identities_consumer_id_fkey"
  FOREIGN KEY ("consumer_id") REFERENCES "consumers" ("id") ON DELETE CASCADE ON UPDATE CASCADE;

CREATE TABLE "sessions" (
  "id" TEXT NOT NULL,
  "organization_id" TEXT NOT NULL,
  "mode" TEXT NOT NULL,
  "consumer_id" TEXT NOT NULL,
  "type" TEXT NOT NULL,
  "access_token_ttl_seconds" INTEGER NOT NULL,
  "refresh_token_ttl_seconds" INTEGER NOT NULL,
  "ip" TEXT,
  "user_agent" TEXT,
  "created_at" TIMESTAMPTZ(6) NOT NULL DEFAULT CURRENT_TIMESTAMP,
  "last_refreshed_at" TIMESTAMPTZ(6),
  "revoked_at" TIMESTAMPTZ(6),
  "revoked_reason" TEXT,
  CONSTRAINT "sessions_pkey" PRIMARY KEY ("id")
);
CREATE INDEX "sessions_consumer_idx" ON "sessions" ("consumer_id");
ALTER TABLE "sessions" ADD CONSTRAINT "sessions_consumer_id_fkey"
  FOREIGN KEY ("consumer_id") REFERENCES "consumers" ("id") ON DELETE CASCADE ON UPDATE CASCADE;

CREATE TABLE "refresh_tokens" (
  "id" TEXT NOT NULL,
  "session_id" TEXT NOT NULL,
  "token_hash" TEXT NOT NULL,
  "parent_id" TEXT,
  "created_at" TIMESTAMPTZ(6) NOT NULL DEFAULT CURRENT_TIMESTAMP,
  "expires_at" TIMESTAMPTZ(6) NOT NULL,
  "used_at" TIMESTAMPTZ(6),
  "revoked_at" TIMESTAMPTZ(6),
  CONSTRAINT "refresh_tokens_pkey" PRIMARY KEY ("id")
);
CREATE UNIQUE INDEX "refresh_tokens_token_hash_key" ON "refresh_tokens" ("token_hash");
CREATE INDEX "refresh_tokens_session_idx" ON "refresh_tokens" ("session_id");
ALTER TABLE "refresh_tokens" ADD CONSTRAINT "refresh_tokens_session_id_fkey"
  FOREIGN KEY ("session_id") REFERENCES "sessions" ("id") ON DELETE CASCADE ON UPDATE CASCADE;

CREATE TABLE "signing_keys" (
  "id" TEXT NOT NULL,
  "algorithm" TEXT NOT NULL DEFAULT 'EdDSA',
  "public_jwk" JSONB NOT NULL,
  "private_key_encrypted" TEXT NOT NULL,
  "created_at" TIMESTAMPTZ(6) NOT NULL DEFAULT CURRENT_TIMESTAMP,
  "retired_at" TIMESTAMPTZ(6),
  CONSTRAINT "signing_keys_pkey" PRIMARY KEY ("id")
);

CREATE TABLE "outbox_events" (
  "id" TEXT PRIMARY KEY,
  "type" TEXT NOT NULL,
  "payload" JSONB NOT NULL,
  "created_at" TIMESTAMPTZ NOT NULL DEFAULT now(),
  "published_at" TIMESTAMPTZ
);
CREATE INDEX "outbox_events_unpublished" ON "outbox_events" ("created_at") WHERE "published_at" IS NULL;
