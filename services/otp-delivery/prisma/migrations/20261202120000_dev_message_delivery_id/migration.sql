-- The delivery a dev/test-sink message belongs to: one message per delivery, however often the
-- job is retried (a crash after the message was stored, before the delivery was recorded as sent).
ALTER TABLE "dev_messages" ADD COLUMN "delivery_id" TEXT;
CREATE UNIQUE INDEX "dev_messages_delivery_id_key" ON "dev_messages" ("delivery_id");
