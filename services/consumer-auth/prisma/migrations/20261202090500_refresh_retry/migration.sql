-- A client whose refresh response was lost (network, a failure after the commit) retries with the
-- spent token within the grace window and gets the SAME pair, without depending on Redis: the pair
-- is stored with the spent token, AES-256-GCM-sealed under a key derived from that token (which is
-- never stored), so a database reader cannot open it.
ALTER TABLE "refresh_tokens" ADD COLUMN "successor_sealed" TEXT;
