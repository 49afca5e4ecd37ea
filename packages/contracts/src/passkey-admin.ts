import { z } from "zod";

/**
 * webauthn-credential's Admin API (issue 14): the passkeys of one organization and mode and their
 * numbers, for the dashboard (operator token) and the organization's server (secret key).
 * Timestamps are ISO 8601. Answers are not wrapped in seed 003's `{result, errors}`; errors are.
 */

const Timestamp = z.string().datetime();

/** A passkey as the Admin API shows it. */
export const AdminPasskeyCredential = z.object({
  id: z.string().startsWith("ctl_"),
  /** The organization's user id given when the passkey was attached (apps use the consumer id). */
  userId: z.string(),
  /** The credential's name (set from the AAGUID when it was created). */
  name: z.string(),
  aaguid: z.string(),
  /** The authenticator's name when its AAGUID is a known one (iCloud Keychain, YubiKey 5 Series, …), else null. */
  authenticatorName: z.string().nullable(),
  /** False once deactivated: the passkey cannot sign in until reactivated. */
  isActive: z.boolean(),
  isBackupEligible: z.boolean(),
  isBackedUp: z.boolean(),
  transports: z.array(z.string()),
  createdAt: Timestamp,
  /** Last successful sign-in with it; null if never used. */
  lastUsedAt: Timestamp.nullable(),
});
export type AdminPasskeyCredential = z.infer<typeof AdminPasskeyCredential>;

/** GET /api/v1/credentials */
export const AdminPasskeyCredentialList = z.object({
  data: z.array(AdminPasskeyCredential),
  /** Pass as `cursor` for the next page; null on the last page. */
  nextCursor: z.string().nullable(),
});
export type AdminPasskeyCredentialList = z.infer<typeof AdminPasskeyCredentialList>;

/** GET /api/v1/stats/passkeys */
export const PasskeyStats = z.object({
  /** One entry per UTC day of the window, oldest first, every day present. */
  days: z.array(
    z.object({
      date: z.string().regex(/^\d{4}-\d{2}-\d{2}$/),
      /** Passkeys attached to a user that day. */
      registrations: z.number().int().min(0),
      /** Successful passkey sign-ins (verified assertions) that day. */
      verifications: z.number().int().min(0),
    }),
  ),
  /** Passkeys not deactivated. */
  activeCredentials: z.number().int().min(0),
  /** Distinct users with at least one active passkey. */
  usersWithPasskeys: z.number().int().min(0),
});
export type PasskeyStats = z.infer<typeof PasskeyStats>;
