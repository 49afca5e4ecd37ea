-- The usernames were hashed into user_accounts by the previous migration: drop the clear copy.
DROP INDEX IF EXISTS "credentials_org_mode_user_handle_idx";
ALTER TABLE "credentials" DROP COLUMN "user_handle";
