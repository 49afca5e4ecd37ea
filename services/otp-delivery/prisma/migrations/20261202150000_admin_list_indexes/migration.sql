-- The Admin API's delivery list and stats (GET /api/v1/otp-deliveries, /api/v1/stats/otp-deliveries):
-- one organization in one mode, newest first (created_at, id), or created since a day.
CREATE INDEX "deliveries_org_mode_created_idx" ON "deliveries" ("organization_id", "mode", "created_at", "id");
-- The same for the rare statuses (pending, failed), so listing an organization's failures does not
-- walk its sent records; sent rows (nearly all of them) are not in it.
CREATE INDEX "deliveries_org_mode_unsent_idx" ON "deliveries" ("organization_id", "mode", "status", "created_at", "id")
  WHERE "status" <> 'sent';
