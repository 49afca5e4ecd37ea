import { z } from "zod";
import { Errors } from "./errors.js";

const ClientData = z.object({
  type: z.string(),
  challenge: z.string(),
  origin: z.string(),
});

/**
 * Reads the challenge out of clientDataJSON, to find (and consume) the challenge record before
 * the full verification. The verification itself re-checks type, challenge and origin.
 */
export function challengeOf(clientDataJSON: string): string {
  try {
    const parsed = ClientData.safeParse(JSON.parse(Buffer.from(clientDataJSON, "base64url").toString("utf8")));
    if (parsed.success) return parsed.data.challenge;
  } catch {
    /* falls through */
  }
  throw Errors.malformed("credential.response.clientDataJSON is not valid WebAuthn client data.");
}
