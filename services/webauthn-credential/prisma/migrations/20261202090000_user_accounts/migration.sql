-- Usernames are kept only as a keyed hash (issue 8): one row per user of an organization and
-- mode, holding HMAC-SHA256(USERNAME_HASH_SECRET, org | mode | folded username). The unique
-- index makes "one username, one user" hold under races. The hashes of existing usernames are
-- computed by the service's migration hook (src/migrate.ts: the secret lives in the environment),
-- in this same transaction, right after this SQL; the next migration drops the clear column.
CREATE TABLE "user_accounts" (
  "organization_id" TEXT NOT NULL,
  "mode" TEXT NOT NULL,
  "user_id" TEXT NOT NULL,
  "username_hash" TEXT,
  "created_at" TIMESTAMPTZ(6) NOT NULL DEFAULT now(),
  CONSTRAINT "user_accounts_pkey" PRIMARY KEY ("organization_id", "mode", "user_id")
);
CREATE UNIQUE INDEX "user_accounts_org_mode_username_hash_key" ON "user_accounts" ("organization_id", "mode", "username_hash");

-- Every user that has a credential gets its account (created when its first passkey was).
INSERT INTO "user_accounts" ("organization_id", "mode", "user_id", "created_at")
SELECT "organization_id", "mode", "user_id", min("created_at") FROM "credentials" GROUP BY 1, 2, 3;

ALTER TABLE "credentials" ADD CONSTRAINT "credentials_account_fkey" FOREIGN KEY ("organization_id", "mode", "user_id")
  REFERENCES "user_accounts" ("organization_id", "mode", "user_id") ON DELETE RESTRICT ON UPDATE CASCADE;
