-- otp-delivery: delivery records, dev-transport messages, outbox.

CREATE TABLE "deliveries" (
  "id" TEXT PRIMARY KEY,
  "event_id" TEXT NOT NULL,
  "request_id" TEXT NOT NULL,
  "organization_id" TEXT,
  "mode" TEXT,
  "channel" TEXT NOT NULL,
  "destination" TEXT NOT NULL,
  "status" TEXT NOT NULL DEFAULT 'pending',
  "attempts" INTEGER NOT NULL DEFAULT 0,
  "provider_message_id" TEXT,
  "last_error" TEXT,
  "locked_until" TIMESTAMPTZ(6),
  "created_at" TIMESTAMPTZ(6) NOT NULL DEFAULT now(),
  "updated_at" TIMESTAMPTZ(6) NOT NULL DEFAULT now()
);
CREATE UNIQUE INDEX "deliveries_event_id_key" ON "deliveries" ("event_id");
CREATE INDEX "deliveries_request_id_idx" ON "deliveries" ("request_id");

CREATE TABLE "dev_messages" (
  "id" TEXT PRIMARY KEY,
  "channel" TEXT NOT NULL,
  "to" TEXT NOT NULL,
  "subject" TEXT,
  "text" TEXT NOT NULL,
  "code" TEXT NOT NULL,
  "created_at" TIMESTAMPTZ(6) NOT NULL DEFAULT now()
);
CREATE INDEX "dev_messages_to_created_at_idx" ON "dev_messages" ("to", "created_at");

CREATE TABLE "outbox_events" (
  "id" TEXT PRIMARY KEY,
  "type" TEXT NOT NULL,
  "payload" JSONB NOT NULL,
  "created_at" TIMESTAMPTZ NOT NULL DEFAULT now(),
  "published_at" TIMESTAMPTZ
);
CREATE INDEX "outbox_events_unpublished" ON "outbox_events" ("created_at") WHERE "published_at" IS NULL;
